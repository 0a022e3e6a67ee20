// Starting the built apps (`apps/<name>/dist/main.js`) as processes, as a deployment would, for
// end-to-end suites; and the admin call that creates an API key.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testConnection } from './broker.ts';
import { freePort } from './docker.ts';
import { testRedisUrl } from './redis.ts';
import { eventually } from './waiting.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunningApp {
  name: string;
  port: number;
  url: string;
  process: ChildProcess;
  output: string[];
}

/** Starts a built app (`apps/<name>/dist/main.js`) as its own process and waits for its health endpoint. */
export async function startApp(name: string, env: Record<string, string>, readiness: 'ready' | 'live' = 'ready'): Promise<RunningApp> {
  const port = env['PORT'] ? Number(env['PORT']) : await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', `${root}apps/${name}/dist/main.js`], {
    env: { ...process.env, ROCKETMQ_ENDPOINTS: testConnection().endpoints, REDIS_URL: testRedisUrl(), LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app: RunningApp = { name, port, url: `http://127.0.0.1:${port}`, process: child, output: [] };
  // Jest force-exits after a run: a child left behind would keep consuming the shared broker's groups.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const keep = (chunk: Buffer) => app.output.push(chunk.toString());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${app.output.join('').slice(-4_000)}`);
      const response = await fetch(`http://127.0.0.1:${port}/health/${readiness}`).catch(() => undefined);
      return response?.status === 200;
    }, `${name} to be ready`, 60_000);
  } catch (error) {
    await stopApp(app);
    // Why it never became ready is in what it said.
    throw new Error(`${(error as Error).message}; ${name} said:\n${app.output.join('').slice(-4_000)}`);
  }
  return app;
}

/**
 * Starts several apps at once and records each one that came up in `into`, even when another
 * fails: the caller's afterAll stops what is there (a leaked app would keep taking messages).
 */
export async function startApps<const T extends readonly Promise<RunningApp>[]>(into: RunningApp[], starts: T): Promise<{ -readonly [K in keyof T]: RunningApp }> {
  const results = await Promise.allSettled(starts);
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  into.push(...started);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return started as { -readonly [K in keyof T]: RunningApp };
}

export async function stopApp(app: RunningApp): Promise<void> {
  if (app.process.exitCode !== null) return;
  const exited = new Promise((resolve) => app.process.once('exit', resolve));
  app.process.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  app.process.kill('SIGKILL');
}

/** Whether `apps/<name>/dist/main.js` exists: the suites say which app is missing instead of failing obscurely. */
export async function isBuilt(name: string): Promise<boolean> {
  return existsSync(`${root}apps/${name}/dist/main.js`);
}

export interface CreatedKey {
  key: string;
  record: { id: string; tenantId: string };
}

/** Creates an API key through access's admin API, as an operator would. */
export async function createKey(access: RunningApp, adminToken: string, input: Record<string, unknown> = {}): Promise<CreatedKey> {
  const response = await fetch(`${access.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: 'acme', models: ['extractive'], ...input }),
  });
  if (response.status !== 201 && response.status !== 200) throw new Error(`creating a key failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as CreatedKey;
}
