import { fileURLToPath } from 'node:url';
import { jestConfig } from '../../jest.preset.mjs';

export default {
  ...jestConfig(import.meta.dirname, 'int'),
  // The retrieval-quality test runs the real embedded model: onnxruntime-node needs the main
  // context's typed arrays, which this environment (from @aip/embeddings) provides.
  testEnvironment: fileURLToPath(import.meta.resolve('@aip/embeddings/jest-environment')),
};
