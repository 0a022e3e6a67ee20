// The model client on its own: time to first token from the mock upstream with a raw fetch, and
// through the provider path as the inference worker calls it (ModelRouter → FallbackChain →
// OpenAICompatibleAdapter, a fresh AbortController per request). Sequential, then concurrent; the
// mock runs in this process, so the client's CPU is felt as it is in a busy worker.
// Prints p50/p99 and the ratio to raw fetch. Run: npm run bench:model-client
//   (BENCH_REQUESTS=300, BENCH_CONCURRENCY=16)
import { cpus } from 'node:os';
import { ModelRouter } from '@aip/llm';
import { startMockLlm } from '@aip/mock-llm';
import { percentile } from './percentile.ts';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 300);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const WARMUP = 100;

const mock = await startMockLlm({ replyTokens: 20 });
const routing = { models: { bench: { providers: [{ name: 'bench-mock', kind: 'openai-compatible', baseUrl: mock.url, model: 'm', firstTokenTimeoutMs: 10_000 }] } } };
const chain = new ModelRouter(routing).resolve('bench');
const messages = [{ role: 'user' as const, content: 'hello there' }];

/** Raw fetch: time to the first SSE frame with text; the stream is read to its end. */
async function raw(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${mock.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, stream_options: { include_usage: true }, max_tokens: 256, messages }) });
  if (response.status !== 200 || !response.body) throw new Error(`status ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let first = NaN;
  let text = '';
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    text += decoder.decode(read.value, { stream: true });
    if (Number.isNaN(first) && text.includes('"content":"')) first = performance.now() - started;
  }
  if (Number.isNaN(first)) throw new Error('no content');
  return first;
}

/** The worker's path: time to the first delta the chain yields; the stream is read to `done`. */
async function provider(): Promise<number> {
  const started = performance.now();
  const abort = new AbortController();
  let first = NaN;
  for await (const chunk of chain.stream({ messages, maxTokens: 256, signal: abort.signal })) {
    if (Number.isNaN(first) && chunk.type === 'delta') first = performance.now() - started;
  }
  if (Number.isNaN(first)) throw new Error('no delta');
  return first;
}

/** `count` calls, `concurrency` at a time; sorted latencies. */
async function run(call: () => Promise<number>, count: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) latencies.push(await call());
  }));
  return latencies.sort((a, b) => a - b);
}

const rows: string[] = [];
try {
  for (const [mode, concurrency] of [['sequential', 1], [`${CONCURRENCY} concurrent`, CONCURRENCY]] as const) {
    await run(raw, WARMUP, concurrency);
    await run(provider, WARMUP, concurrency);
    const direct = await run(raw, REQUESTS, concurrency);
    const through = await run(provider, REQUESTS, concurrency);
    for (const [name, latencies] of [['raw fetch', direct], ['provider path', through]] as const) {
      const p50 = percentile(latencies, 0.5);
      const p99 = percentile(latencies, 0.99);
      const ratio = `x${(p50 / percentile(direct, 0.5)).toFixed(2)} / x${(p99 / percentile(direct, 0.99)).toFixed(2)}`;
      rows.push(`| ${mode} | ${name} | ${p50.toFixed(2)} ms | ${p99.toFixed(2)} ms | ${ratio} |`);
    }
  }
  console.log(`${cpus().length} cores, Node ${process.version}; ${REQUESTS} streaming requests per row, time to first token against @aip/mock-llm`);
  console.log(`| mode | path | p50 TTFT | p99 TTFT | p50 / p99 vs raw |\n|---|---|---|---|---|\n${rows.join('\n')}`);
} finally {
  await mock.close();
}
process.exit(0);
