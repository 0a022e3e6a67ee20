import { fileURLToPath } from 'node:url';
import { jestConfig } from '../../jest.preset.mjs';

export default {
  ...jestConfig(import.meta.dirname, 'int'),
  // The real embedding model (onnxruntime-node) needs the main context's typed arrays (see the file).
  testEnvironment: fileURLToPath(new URL('./test/onnx.environment.cjs', import.meta.url)),
};
