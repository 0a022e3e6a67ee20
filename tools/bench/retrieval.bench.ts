// Retrieval benchmark: the embedded LanceDB store with 100k chunks (384-d vectors, synthetic text),
// p50/p99 latency of dense, full-text and hybrid queries after warm-up, without and with the
// vector index, against a brute-force cosine scan in JS over the same vectors (the baseline every
// "just keep it in memory" design starts from), in one run.
//
// Run: npm run bench:retrieval   (node --experimental-transform-types --conditions=@aip/source: the
// store comes from @aip/knowledge's TypeScript sources, no build needed)
// Env: BENCH_ROWS (100000), BENCH_QUERIES (200 per figure), BENCH_WARMUP (20), BENCH_DIR (a temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bagOfWordsVector, LanceDbStore, type ChunkRecord, type SearchQuery } from '@aip/knowledge';
import { percentile } from './percentile.ts';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 100_000);
const QUERIES = Number(process.env['BENCH_QUERIES'] ?? 200);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 20);
const DIM = 384;
const KBS = ['kb-0', 'kb-1', 'kb-2', 'kb-3', 'kb-4'];
const TENANT = 'bench';
const dir = process.env['BENCH_DIR'] ?? mkdtempSync(join(tmpdir(), 'aip-retrieval-bench-'));

// Deterministic pseudo-random numbers (mulberry32), so every run measures the same data.
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
// Zipf-like vocabulary: a few very common words, a long tail of rare ones, as in real text.
const VOCABULARY = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
const word = () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 3)]!;
const sentence = (words: number) => Array.from({ length: words }, word).join(' ');

async function measure(name: string, run: (i: number) => Promise<unknown> | unknown): Promise<{ name: string; p50: number; p99: number; mean: number }> {
  for (let i = 0; i < WARMUP; i++) await run(i + 1_000_000);
  const times: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const figure = { name, p50: percentile(times, 0.5), p99: percentile(times, 0.99), mean: times.reduce((a, b) => a + b, 0) / times.length };
  process.stderr.write(`  ${name}: p50 ${figure.p50.toFixed(2)} ms, p99 ${figure.p99.toFixed(2)} ms\n`);
  return figure;
}

const store = new LanceDbStore({ dataDir: dir, optimizeEveryWrites: 1_000_000, vectorIndexMinRows: Number.MAX_SAFE_INTEGER });
await store.init(DIM);

// Fill: batches of 2,000 chunks through the real upsert path (merge on tenant + id).
const texts: string[] = [];
const matrix = new Float32Array(ROWS * DIM);
let started = performance.now();
for (let start = 0; start < ROWS; start += 2_000) {
  const batch: ChunkRecord[] = [];
  for (let i = start; i < Math.min(ROWS, start + 2_000); i++) {
    const text = sentence(30 + Math.floor(random() * 30));
    const vector = bagOfWordsVector(text, DIM);
    texts.push(text);
    matrix.set(vector, i * DIM);
    batch.push({ id: `c${i}`, tenantId: TENANT, kbId: KBS[i % KBS.length]!, docId: `d${Math.floor(i / 20)}`, version: 'v1', position: i % 20, text, hash: `h${i}`, model: 'bench-bow', vector });
  }
  await store.upsert(batch);
}
const fillSeconds = (performance.now() - started) / 1000;
started = performance.now();
await store.optimize(); // fold the rows into the full-text and scalar indexes (no vector index yet)
const optimizeSeconds = (performance.now() - started) / 1000;
process.stderr.write(`filled ${ROWS} rows in ${fillSeconds.toFixed(1)} s, optimize ${optimizeSeconds.toFixed(1)} s\n`);

// Queries: 2–5 words of an existing chunk (so each has real matches), searched over all 5 kbs.
const queryTexts = Array.from({ length: 2_000 }, () => {
  const words = texts[Math.floor(random() * texts.length)]!.split(' ');
  const from = Math.floor(random() * (words.length - 5));
  return words.slice(from, from + 2 + Math.floor(random() * 4)).join(' ');
});
const queryVectors = queryTexts.map((text) => bagOfWordsVector(text, DIM));
const q = (i: number, mode: SearchQuery['mode']): SearchQuery => ({ tenantId: TENANT, kbIds: KBS, mode, text: queryTexts[i % queryTexts.length]!, vector: queryVectors[i % queryVectors.length]!, limit: 10 });

function bruteForce(vector: readonly number[], limit: number): number[] {
  const query = Float32Array.from(vector);
  const best: { i: number; s: number }[] = [];
  for (let row = 0; row < ROWS; row++) {
    let s = 0;
    const offset = row * DIM;
    for (let d = 0; d < DIM; d++) s += matrix[offset + d]! * query[d]!;
    if (best.length < limit || s > best[best.length - 1]!.s) {
      best.push({ i: row, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > limit) best.pop();
    }
  }
  return best.map((b) => b.i);
}

process.stderr.write('measuring (flat vector search)\n');
const figures = [
  await measure('baseline: brute-force cosine in JS (Float32Array)', (i) => bruteForce(queryVectors[i % queryVectors.length]!, 10)),
  await measure('dense, flat (exact)', (i) => store.search(q(i, 'dense'))),
  await measure('full text (BM25 index)', (i) => store.search(q(i, 'fulltext'))),
  await measure('hybrid (flat dense + BM25, RRF)', (i) => store.search(q(i, 'hybrid'))),
];
started = performance.now();
await store.optimize({ force: true });
const indexSeconds = (performance.now() - started) / 1000;
process.stderr.write(`vector index built in ${indexSeconds.toFixed(1)} s\nmeasuring (vector index)\n`);
figures.push(await measure('dense, vector index (IVF-PQ, refine x10)', (i) => store.search(q(i, 'dense'))), await measure('hybrid, vector index', (i) => store.search(q(i, 'hybrid'))));

// Recall@10 of the indexed dense search against the exact scan, over 100 queries.
let agree = 0;
for (let i = 0; i < 100; i++) {
  const exact = new Set(bruteForce(queryVectors[i]!, 10).map((row) => `c${row}`));
  const hits = await store.search(q(i, 'dense'));
  agree += hits.filter((hit) => exact.has(hit.chunk.id)).length;
}
const recall = agree / 1_000;
await store.close();
if (!process.env['BENCH_DIR']) rmSync(dir, { recursive: true, force: true });

const baseline = figures[0]!.p50;
console.log(`\nRetrieval benchmark — ${ROWS} chunks, ${DIM}-d, 1 tenant × ${KBS.length} kbs (every query searches all), limit 10, ${QUERIES} queries per figure after ${WARMUP} warm-up`);
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; fill ${fillSeconds.toFixed(1)} s (${Math.round(ROWS / fillSeconds)} rows/s), optimize ${optimizeSeconds.toFixed(1)} s, vector index ${indexSeconds.toFixed(1)} s; indexed recall@10 vs exact ${recall.toFixed(3)}\n`);
console.log('| query | p50 ms | p99 ms | mean ms | p50 vs baseline |');
console.log('|---|---:|---:|---:|---:|');
for (const f of figures) console.log(`| ${f.name} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} | ${f.mean.toFixed(2)} | ${(f.p50 / baseline).toFixed(2)}× |`);
