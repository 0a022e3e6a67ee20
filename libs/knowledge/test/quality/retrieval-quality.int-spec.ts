// Retrieval quality on a labelled set: the corpus in ./corpus is ingested with the real pipeline
// (parse → chunk → all-MiniLM-L6-v2 → LanceDB in a temp dir, registry on Redis), every question of
// ./questions.json is asked in the three modes through the Retriever, and recall@5 is computed per
// mode, overall and per kind. Hybrid (RRF of dense and BM25) must beat each mode alone.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbeddings, type EmbeddingModel } from '@aip/embeddings';
import { deleteKeys, testRedis, uniqueName } from '@aip/testing';
import { createKnowledgeStore, IngestPipeline, KnowledgeRegistry, Retriever, type KnowledgeStore, type SearchMode } from '../../src/index.ts';
import { disagreements, evaluateRetrieval, formatRecallTable, parseLabelledSet, type QualityReport } from '../../src/quality/index.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const K = 5;
const MODES: SearchMode[] = ['dense', 'fulltext', 'hybrid'];
/** Chunks fit the model's 128-token window (~500 characters of English), so dense sees every word. */
const SETTINGS = { chunkSize: 500, chunkOverlap: 50 };
const tenantId = 'quality';
const kbId = 'handbook';

const redis = testRedis();
const prefix = `${uniqueName('kbquality')}:`;
let dir: string;
let store: KnowledgeStore;
let model: EmbeddingModel;
let report: QualityReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aip-retrieval-quality-'));
  model = await createEmbeddings({ provider: 'embedded' });
  store = createKnowledgeStore({ provider: 'lancedb', dataDir: dir });
  await store.init(model.dimension);
  const registry = new KnowledgeRegistry(redis, prefix);
  await registry.createKnowledgeBase({ tenantId, kbId, ...SETTINGS });
  const pipeline = new IngestPipeline({ store, embeddings: model.embeddings, modelId: model.modelId, registry });

  const files = (await readdir(join(here, 'corpus'))).filter((name) => name.endsWith('.md')).sort();
  for (const file of files) {
    const content = await readFile(join(here, 'corpus', file), 'utf8');
    await pipeline.ingest({ tenantId, kbId, docId: file.replace(/\.md$/, ''), content, mediaType: 'text/markdown', settings: SETTINGS });
  }
  const set = parseLabelledSet(JSON.parse(await readFile(join(here, 'questions.json'), 'utf8')), new Set(files.map((file) => file.replace(/\.md$/, ''))));

  const retriever = new Retriever({ store, embeddings: model.embeddings, versions: registry });
  report = await evaluateRetrieval({
    questions: set.questions,
    modes: MODES,
    k: K,
    search: async (query, mode, limit) => (await retriever.search({ tenantId, kbIds: [kbId], query, mode, limit })).map((passage) => passage.source.docId),
  });
  console.log(
    `recall@${K} over ${set.questions.length} questions, ${files.length} documents, ${await store.count({ tenantId, kbIds: [kbId] })} chunks (${SETTINGS.chunkSize}/${SETTINGS.chunkOverlap}), ${model.modelId}\n${formatRecallTable(report)}\n\n` +
      `questions where the modes disagree:\n${disagreements(report)
        .map((d) => `${d.id} (${d.kind}) ${MODES.map((m) => `${m}=${d.recall[m]!.toFixed(2)}`).join(' ')}`)
        .join('\n')}`,
  );
}, 300_000);

afterAll(async () => {
  await store?.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`retrieval quality (recall@${K}, real MiniLM + LanceDB)`, () => {
  it('asks every question in every mode; dense and hybrid always fill the 5 places', () => {
    expect(report.results).toHaveLength(report.figures.hybrid!.questions * MODES.length);
    // Full text may find nothing (no query term in the corpus); the other two always answer.
    for (const result of report.results.filter((r) => r.mode !== 'fulltext')) expect(result.ranked).toHaveLength(K);
  });

  it('hybrid recall@5 beats dense alone and full text alone', () => {
    const { dense, fulltext, hybrid } = report.figures;
    expect(hybrid!.overall).toBeGreaterThan(dense!.overall);
    expect(hybrid!.overall).toBeGreaterThan(fulltext!.overall);
  });

  it('dense wins the paraphrases and full text the keyword queries (what each list brings to the fusion)', () => {
    const { dense, fulltext } = report.figures;
    expect(dense!.byKind.paraphrase).toBeGreaterThan(fulltext!.byKind.paraphrase!);
    expect(fulltext!.byKind.keyword).toBeGreaterThan(dense!.byKind.keyword!);
  });
});
