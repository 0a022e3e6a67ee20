// Embedded-model throughput on this machine (embeddings per second), for the README figures:
//
//   node --conditions=@aip/source tools/models/bench.ts [--model all-minilm-l6-v2] [--batch 1,8,16,32] [--threads N] [--rounds 3]
//
// Two workloads: short texts (~20 words, a query or a title) and chunk-sized texts (~150 words,
// ~190 word pieces, so the 128-token window is full). Bounded: a few hundred texts per setting.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_EMBEDDED_MODEL, MiniLmEmbeddings } from '@aip/embeddings';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_EMBEDDED_MODEL },
    batch: { type: 'string', default: '1,8,16,32' },
    threads: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});

const WORDS = (
  'the platform keeps its knowledge base current by consuming change events from many sources and every document ' +
  'is parsed normalised split into chunks hashed and embedded before it is written to the vector store with its ' +
  'tenant knowledge base version position and text so retrieval can filter by tenant and combine dense vectors with ' +
  'full text search while workers pull requests only when they have free slots and stream tokens back to clients'
).split(' ');

/** Deterministic, varied texts of n words (no two alike, so nothing is cached anywhere). */
function texts(count: number, words: number, seed: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    Array.from({ length: words }, (_, w) => WORDS[(w * 7 + i * 13 + seed) % WORDS.length]).join(' ') + '.');
}

const workloads = [
  { name: 'short (~20 words)', texts: texts(192, 20, 1) },
  { name: 'chunk (~150 words)', texts: texts(48, 150, 2) },
];
const rounds = Number(values.rounds);
const threads = values.threads ? Number(values.threads) : undefined;

process.stdout.write(`model ${values.model}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, threads ${threads ?? 'onnxruntime default'}\n`);
for (const batchSize of values.batch.split(',').map(Number)) {
  const model = await MiniLmEmbeddings.fromCache({ model: values.model, batchSize, ...(threads ? { threads } : {}) });
  await model.embedDocuments(texts(16, 20, 99)); // warm-up
  const cells: string[] = [];
  for (const workload of workloads) {
    const tokens = await Promise.all(workload.texts.map((text) => model.tokenIds(text)));
    const meanTokens = tokens.reduce((sum, ids) => sum + ids.length, 0) / tokens.length;
    let best = 0;
    for (let round = 0; round < rounds; round++) {
      const started = performance.now();
      await model.embedDocuments(workload.texts);
      best = Math.max(best, workload.texts.length / ((performance.now() - started) / 1000));
    }
    cells.push(`${workload.name}: ${best.toFixed(1)}/s (${meanTokens.toFixed(0)} tokens)`);
  }
  process.stdout.write(`batch ${String(batchSize).padStart(2)}  ${cells.join('   ')}\n`);
  await model.close();
}
