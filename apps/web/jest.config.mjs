import { jestConfig } from '../../jest.preset.mjs';

// The page's logic modules (stores, the realtime client, labels) run without a DOM; the page as a
// whole is tested in Chromium by tests/proactive (page.int-spec.ts).
export default jestConfig(import.meta.dirname);
