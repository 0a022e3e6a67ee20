import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddingModelError } from './embedding-model.error.ts';
import { ensureEmbeddingModel } from './ensure-model.ts';
import { ALL_MINILM_L6_V2_Q } from './model-artifact.ts';

// The real cache (fetched once per machine) and a corrupted copy of it in a temp folder.
const modelsDir = process.env['MODELS_DIR'] || undefined;
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-models-it-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('ensureEmbeddingModel with the real artifact', () => {
  let ensured: Awaited<ReturnType<typeof ensureEmbeddingModel>>;

  beforeAll(async () => {
    ensured = await ensureEmbeddingModel({ model: 'all-minilm-l6-v2-q', ...(modelsDir ? { modelsDir } : {}) });
  }, 600_000);

  it('reuses the cache without Maven', async () => {
    const again = await ensureEmbeddingModel({ model: 'all-minilm-l6-v2-q', mvn: path.join(work, 'no-maven-here'), ...(modelsDir ? { modelsDir } : {}) });
    expect(again).toEqual(ensured);
  });

  it('refuses a corrupted model file with a message that names it and the fix', async () => {
    const copyRoot = path.join(work, 'corrupted');
    const copy = path.join(copyRoot, `${ALL_MINILM_L6_V2_Q.artifactId}-${ALL_MINILM_L6_V2_Q.version}`);
    fs.mkdirSync(copy, { recursive: true });
    fs.copyFileSync(ensured.vocabPath, path.join(copy, path.basename(ensured.vocabPath)));
    const bytes = fs.readFileSync(ensured.onnxPath);
    const middle = bytes.length >> 1;
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff; // one flipped byte in the middle of the weights
    fs.writeFileSync(path.join(copy, path.basename(ensured.onnxPath)), bytes);

    const error = await ensureEmbeddingModel({ model: 'all-minilm-l6-v2-q', modelsDir: copyRoot, mvn: path.join(work, 'no-maven-here') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddingModelError);
    expect(error).toMatchObject({ code: 'checksum_mismatch' });
    expect((error as Error).message).toContain(`${path.join(copy, ALL_MINILM_L6_V2_Q.onnx.entry)} has sha256`);
    expect((error as Error).message).toContain(`expected ${ALL_MINILM_L6_V2_Q.onnx.sha256}`);
    expect((error as Error).message).toContain(`delete ${copy} to fetch it again`);
  });
});
