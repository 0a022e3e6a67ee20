// A real Chromium for the page tests: Debian's package, installed on first use (CI machines
// start without it), driven by playwright-core. The flags keep Chromium from calling home on this
// closed network (QUIC, component updates, sync, background requests would each stall or fail).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const script = fileURLToPath(new URL('../../../tools/browser/ensure-chromium.sh', import.meta.url));

export const chromiumPath = (): string => process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Installs Chromium when it is missing (tools/browser/ensure-chromium.sh); a no-op once installed. */
export async function ensureChromium(): Promise<string> {
  try {
    const { stderr } = await promisify(execFile)('bash', [script], { env: { ...process.env, CHROMIUM_PATH: chromiumPath() }, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
    if (stderr.trim()) process.stderr.write(`${stderr.trim().split('\n').slice(-3).join('\n')}\n`);
  } catch (error) {
    const failure = error as Error & { stderr?: string };
    throw new Error(`Chromium is needed for the page tests and could not be installed:\n${failure.stderr ?? failure.message}`);
  }
  return chromiumPath();
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium. Playwright gives every `launch()` a fresh temporary user-data-dir
 * (and removes it on close; it refuses a `--user-data-dir` argument), so no state leaks between runs.
 */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  const executablePath = await ensureChromium();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  return { browser, close: () => browser.close().catch(() => undefined) };
}
