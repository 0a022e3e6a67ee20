import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually, testConnection, testRedisUrl } from '@aip/testing';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  name: string;
  port: number;
  process: ChildProcess;
  output: string[];
}

/** Starts a built app (`apps/<name>/dist/main.js`) as its own process, as a deployment would. */
export async function startApp(name: string, env: Record<string, string>, readiness: 'ready' | 'live' = 'ready'): Promise<RunningApp> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--enable-source-maps', `${root}apps/${name}/dist/main.js`], {
    env: { ...process.env, ROCKETMQ_ENDPOINTS: testConnection().endpoints, REDIS_URL: testRedisUrl(), LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app: RunningApp = { name, port, process: child, output: [] };
  const keep = (chunk: Buffer) => app.output.push(chunk.toString());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${app.output.join('')}`);
    const response = await fetch(`http://127.0.0.1:${port}/health/${readiness}`).catch(() => undefined);
    return response?.status === 200;
  }, `${name} to be ready`, 60_000);
  return app;
}

export async function stopApp(app: RunningApp): Promise<void> {
  if (app.process.exitCode !== null) return;
  const exited = new Promise((resolve) => app.process.once('exit', resolve));
  app.process.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  app.process.kill('SIGKILL');
}
