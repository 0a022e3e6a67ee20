// Builds the page into dist/ (what rtc-push serves). `nx run @aip/web:serve` runs the dev server;
// it forwards the page's config and socket to an rtc-push on RTC_PUSH_URL (default: npm start's).
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const rtcPush = process.env['RTC_PUSH_URL'] ?? 'http://127.0.0.1:3005';

export default defineConfig({
  plugins: [preact()],
  // Relative asset URLs: the page also works below a path prefix (an ingress route).
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/config.json': rtcPush,
      '/v1/ws': { target: rtcPush.replace(/^http/, 'ws'), ws: true },
    },
  },
});
