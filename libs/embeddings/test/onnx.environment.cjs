// Jest runs tests in a separate V8 context with its own typed-array constructors, while the
// onnxruntime-node addon creates its output tensors' data with the main context's. onnxruntime's
// `instanceof Float32Array` check then fails ("A float32 tensor's data must be type of function
// Float32Array()"). Sharing the main context's typed-array constructors with the test context
// removes the mismatch; nothing else about the environment changes. Not needed outside Jest.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxTestEnvironment;
