// Ingestion benchmark: our pipeline (parse → normalise → chunk → hash → reuse vectors by hash →
// embed only new chunks → upsert → switch version → delete the superseded one) against LangChain's
// plain path (`splitDocuments` + `VectorStore.addDocuments`, a minimal VectorStore over the same
// KnowledgeStore), same corpus, same model (the embedded all-MiniLM-L6-v2, same files, same
// onnxruntime), same store (LanceDB in a temporary directory), in one run. Then our re-ingest of
// the unchanged corpus as a fraction of the first ingest (aim: ≤ 5 %): LangChain's path has no
// such check, so re-adding costs it a full ingest again (and duplicates every row).
//
// Each side runs the model the way it is built to. Ours, as knowledge-ingest does: documents
// ingested BENCH_CONCURRENCY at a time (INGEST_CONCURRENCY, default 2; the app takes one change
// per document at a time, and every document here has one version), parsed in a ParseWorkerPool,
// their new chunks sharing embedding calls of EMBED_BATCH_SIZE (32) texts, run on
// BENCH_SESSIONS (EMBEDDINGS_SESSIONS, default 2) ONNX sessions in worker threads (one intra-op
// thread each), as many calls at once. LangChain's: one `embedDocuments` call over every chunk,
// on the library's default embedder (one session in the main thread with onnxruntime's default
// intra-op threads; on the 2-vCPU test machine that ran at about one core: CPU s ≈ wall s), whose
// batches run one after another. So our lead in wall time comes from running batches in parallel,
// which that plain path does not do; a LangChain caller that split its documents over concurrent
// `addDocuments` calls on a multi-session embedder would get it too. It needs idle cores: when
// other work keeps the machine busy (Linux shares CPU per session, autogroup), this process gets
// about one CPU whatever its threads, and the wall ratio falls to the per-CPU-second ratio, which
// is the one that shows the work each side does (ours also writes, looks up and switches every
// document on its own). BENCH_CONCURRENCY=3 keeps 2 sessions busier than 2 (~94 % vs ~86 %).
//
// Run: node --experimental-transform-types --conditions=@aip/source tools/bench/ingest.bench.ts
// The machine is shared, so both sides run in alternating rounds (fresh tenants each time, so no
// side reuses the other's vectors) and the best round of each counts; CPU seconds of this process
// (onnxruntime's threads included) are printed next to wall time, being less sensitive to load.
// Env: BENCH_ROUNDS (2), BENCH_CORPUS_REPEAT (1: the repo's Markdown docs; 2 adds a second copy
//      of each, which shows de-duplication by hash), BENCH_CHUNK_SIZE (800), BENCH_CHUNK_OVERLAP (100),
//      BENCH_CONCURRENCY (2), BENCH_SESSIONS (2), BENCH_EMBED_BATCH (32), REDIS_URL.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { VectorStore } from '@langchain/core/vectorstores';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { Redis } from 'ioredis';
import { createEmbeddings } from '@aip/embeddings';
import { chunkHash, chunkId, createKnowledgeStore, DEFAULT_INGEST_LIMITS, IngestPipeline, KnowledgeRegistry, ParseWorkerPool, type KnowledgeStore } from '@aip/knowledge';
import { deleteKeys } from '@aip/testing';
import { globSync } from 'node:fs';

const REPEAT = Number(process.env['BENCH_CORPUS_REPEAT'] ?? 1);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 2);
const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 2);
const EMBED_BATCH = Number(process.env['BENCH_EMBED_BATCH'] ?? 32);
const settings = { chunkSize: Number(process.env['BENCH_CHUNK_SIZE'] ?? 800), chunkOverlap: Number(process.env['BENCH_CHUNK_OVERLAP'] ?? 100) };
const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aip-ingest-bench-'));
const prefix = `bench-ingest-${Date.now().toString(36)}:`;

/** The LangChain baseline: a VectorStore whose addDocuments embeds every chunk and writes it. */
class KnowledgeStoreVectorStore extends VectorStore {
  declare FilterType: never;
  private readonly store: KnowledgeStore;
  private readonly scope: { tenantId: string; kbId: string; model: string };
  private next = 0;

  constructor(embeddings: EmbeddingsInterface, store: KnowledgeStore, scope: { tenantId: string; kbId: string; model: string }) {
    super(embeddings, {});
    this.store = store;
    this.scope = scope;
  }

  _vectorstoreType(): string {
    return 'aip-knowledge-store';
  }

  async addDocuments(documents: Document[]): Promise<void> {
    await this.addVectors(await this.embeddings.embedDocuments(documents.map((d) => d.pageContent)), documents);
  }

  async addVectors(vectors: number[][], documents: Document[]): Promise<void> {
    const rows = documents.map((doc, i) => {
      const position = this.next++;
      const docId = String(doc.metadata['source']);
      return { id: chunkId({ ...this.scope, docId, version: 'v1', position }), tenantId: this.scope.tenantId, kbId: this.scope.kbId, docId, version: 'v1', position, text: doc.pageContent, hash: chunkHash(doc.pageContent), model: this.scope.model, vector: vectors[i]! };
    });
    for (let i = 0; i < rows.length; i += 256) await this.store.upsert(rows.slice(i, i + 256));
  }

  async similaritySearchVectorWithScore(query: number[], k: number): Promise<[Document, number][]> {
    const hits = await this.store.search({ tenantId: this.scope.tenantId, kbIds: [this.scope.kbId], mode: 'dense', vector: query, limit: k });
    return hits.map((hit) => [new Document({ pageContent: hit.chunk.text, metadata: { docId: hit.chunk.docId } }), hit.score]);
  }
}

const files = globSync(['docs/**/*.md', 'apps/*/README.md', 'libs/*/README.md', 'tools/*/README.md', 'README.md'], { cwd: root }).sort();
const corpus = Array.from({ length: REPEAT }, (_, copy) =>
  files.map((file) => ({ docId: `${copy}/${relative(root, join(root, file))}`, text: `${readFileSync(join(root, file), 'utf8')}\n\n(copy ${copy})` })),
).flat();
const bytes = corpus.reduce((sum, doc) => sum + Buffer.byteLength(doc.text), 0);

// LangChain's side: the library default (one session in this thread). Ours: as knowledge-ingest configures it.
const plainModel = await createEmbeddings({ provider: 'embedded' });
const model = await createEmbeddings({ provider: 'embedded', sessions: SESSIONS });
if (model.modelId !== plainModel.modelId) throw new Error('both sides must run the same model');
const store = await createKnowledgeStore({ provider: 'lancedb', dataDir: join(dir, 'lancedb') });
await store.init(model.dimension);
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
let embedCalls = 0;
const counting = (embeddings: EmbeddingsInterface) => ({
  embedQuery: (text: string) => embeddings.embedQuery(text),
  embedDocuments: async (texts: string[]) => {
    embedCalls++;
    return embeddings.embedDocuments(texts);
  },
});
const plainCounted = counting(plainModel.embeddings);
const counted = counting(model.embeddings);
const parser = new ParseWorkerPool({ size: CONCURRENCY, timeoutMs: 120_000, memoryMb: 512 });
// Warm-up: the ONNX sessions' first runs, the parse workers' start and LanceDB's first writes are not what we measure.
await plainModel.embeddings.embedDocuments(['warm up the model', 'and its allocator']);
await Promise.all(Array.from({ length: SESSIONS }, () => model.embeddings.embedDocuments(['warm up the model', 'and its allocator'])));
await Promise.all(Array.from({ length: CONCURRENCY }, () => parser.prepare({ content: '# warm up\n\nthe parser', mediaType: 'text/markdown', settings, limits: DEFAULT_INGEST_LIMITS })));

const pipeline = new IngestPipeline({ store, embeddings: counted, modelId: model.modelId, registry: new KnowledgeRegistry(redis, prefix), embedBatchSize: EMBED_BATCH, embedConcurrency: model.parallelism, prepare: parser.prepare });
interface Run { seconds: number; cpu: number; chunks: number; embedded: number }

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function ours(tenantId: string): Promise<Run> {
  const started = performance.now();
  const cpu = cpuSeconds();
  let chunks = 0;
  let embedded = 0;
  // CONCURRENCY documents at a time, as the app's scheduler applies them (each document has one change here).
  let next = 0;
  const lane = async () => {
    while (next < corpus.length) {
      const doc = corpus[next++]!;
      const result = await pipeline.ingest({ tenantId, kbId: 'kb', docId: doc.docId, content: doc.text, mediaType: 'text/markdown', settings });
      chunks += result.chunks;
      embedded += result.embedded;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return { seconds: (performance.now() - started) / 1_000, cpu: cpuSeconds() - cpu, chunks, embedded };
}

async function langchain(tenantId: string): Promise<Run> {
  const started = performance.now();
  const cpu = cpuSeconds();
  const splitter = RecursiveCharacterTextSplitter.fromLanguage('markdown', settings);
  const chunks = await splitter.splitDocuments(corpus.map((doc) => new Document({ pageContent: doc.text, metadata: { source: doc.docId } })));
  await new KnowledgeStoreVectorStore(plainCounted, store, { tenantId, kbId: 'kb', model: plainModel.modelId }).addDocuments(chunks);
  return { seconds: (performance.now() - started) / 1_000, cpu: cpuSeconds() - cpu, chunks: chunks.length, embedded: chunks.length };
}

try {
  console.log(`corpus: ${corpus.length} Markdown documents, ${(bytes / 1024).toFixed(0)} KiB; chunks ${settings.chunkSize}/${settings.chunkOverlap}; ${model.modelId} (${model.dimension}-d); LanceDB; ${cpus().length} CPUs (shared)`);
  console.log(`ours: ${CONCURRENCY} documents at a time, embedding calls of ${EMBED_BATCH} texts on ${SESSIONS} sessions (worker threads); LangChain: one embedDocuments call, default embedder (one session in the main thread)`);
  const best = (runs: Run[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const runs = { langchain: [] as Run[], first: [] as Run[], again: [] as Run[] };
  let reingestCalls = 0;
  let rows = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating order; fresh tenants, so neither side can reuse the other's (or an earlier round's) vectors.
    const sides = [async () => runs.langchain.push(await langchain(`bench-langchain-${round}`)), async () => {
      runs.first.push(await ours(`bench-ours-${round}`));
      const calls = embedCalls;
      runs.again.push(await ours(`bench-ours-${round}`));
      reingestCalls += embedCalls - calls;
      rows = await store.count({ tenantId: `bench-ours-${round}`, kbIds: ['kb'] });
    }];
    if (round % 2 === 1) sides.reverse();
    for (const side of sides) await side();
  }
  const table = [
    { path: 'LangChain splitDocuments + addDocuments', ...best(runs.langchain) },
    { path: 'ours, first ingest', ...best(runs.first) },
    { path: 'ours, re-ingest unchanged', ...best(runs.again) },
  ];
  console.log(`\nbest of ${ROUNDS} rounds (all rounds, wall s: LangChain ${runs.langchain.map((r) => r.seconds.toFixed(1)).join(' / ')}; ours ${runs.first.map((r) => r.seconds.toFixed(1)).join(' / ')}; re-ingest ${runs.again.map((r) => r.seconds.toFixed(2)).join(' / ')})`);
  console.log('\n| path | wall s | CPU s | chunks | embedded | chunks/s (wall) | chunks/CPU-s |\n|---|---:|---:|---:|---:|---:|---:|');
  for (const row of table) console.log(`| ${row.path} | ${row.seconds.toFixed(2)} | ${row.cpu.toFixed(2)} | ${row.chunks} | ${row.embedded} | ${(row.chunks / row.seconds).toFixed(1)} | ${(row.chunks / row.cpu).toFixed(1)} |`);
  const first = best(runs.first);
  const again = best(runs.again);
  const baseline = best(runs.langchain);
  console.log(`\nre-ingest / first ingest: ${((again.seconds / first.seconds) * 100).toFixed(1)} % wall, ${((again.cpu / first.cpu) * 100).toFixed(1)} % CPU (aim ≤ 5 %); embedding calls during re-ingests: ${reingestCalls}; rows after re-ingest: ${rows} (= chunks: no duplicates)`);
  console.log(`ours vs LangChain, first ingest: ${(first.chunks / first.seconds / (baseline.chunks / baseline.seconds)).toFixed(2)}× the chunks/s (wall), ${(first.chunks / first.cpu / (baseline.chunks / baseline.cpu)).toFixed(2)}× per CPU-second`);
} finally {
  await parser.close();
  await (model.embeddings as { close?: () => Promise<void> }).close?.();
  await store.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
