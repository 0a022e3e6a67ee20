// Jest runs tests in their own V8 context with their own typed-array constructors, while the
// onnxruntime-node addon (the embedded embedding model) creates tensors with the main context's,
// so onnxruntime's `instanceof Float32Array` check fails under Jest only. Sharing the main
// context's typed arrays removes the mismatch. Same fix as libs/embeddings/test (which should move
// to libs/testing so it is not kept in two places).
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];

module.exports = class OnnxTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
};
