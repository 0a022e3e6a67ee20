import { fileURLToPath } from 'node:url';
import { jestConfig } from '../../jest.preset.mjs';

export default {
  ...jestConfig(import.meta.dirname, 'int'),
  // onnxruntime-node's output tensors need the main context's typed arrays (see the file). Other
  // projects whose tests run the embedded model use it the same way:
  //   testEnvironment: fileURLToPath(import.meta.resolve('@aip/embeddings/jest-environment'))
  testEnvironment: fileURLToPath(import.meta.resolve('@aip/embeddings/jest-environment')),
};
