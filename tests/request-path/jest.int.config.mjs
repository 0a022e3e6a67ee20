import { jestConfig } from '../../jest.preset.mjs';

const config = jestConfig(import.meta.dirname, 'int');
export default { ...config, setupFilesAfterEnv: ['<rootDir>/src/retry-once.ts'] };
