// No Docker engine in CI: instead, each app is started with EXACTLY the command its image runs
// (ENTRYPOINT + CMD + ENV of deploy/docker/Dockerfile, the settings of its Kubernetes ConfigMap),
// on the build output, against the real broker and Redis. It must become ready, and after SIGTERM
// (what Kubernetes and Docker send) drain and exit cleanly within the grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, testConnection, testRedisUrl, uniqueName } from '@aip/testing';
import { Redis } from 'ioredis';
import { runtimeStage } from './support/dockerfile.ts';
import { hostCommand } from './support/image-command.ts';
import { dockerfilePath, root, workspaceApps } from './support/workspace.ts';
import { DEPLOY_APPS, PRE_STOP_SECONDS } from '@aip/deploy-tools';

const dockerfile = readFileSync(dockerfilePath, 'utf8');
/**
 * Apps whose code has landed (src/main.ts); each of them must have been built. DEPLOY_TEST_APPS
 * (comma-separated) narrows the set while working on one app.
 */
const only = process.env['DEPLOY_TEST_APPS']?.split(',').map((name) => name.trim()).filter(Boolean);
const apps = workspaceApps().filter((name) => existsSync(join(root, 'apps', name, 'src', 'main.ts')) && (!only || only.includes(name)));
const pending = workspaceApps().filter((name) => !apps.includes(name));

interface Started {
  name: string;
  healthcheck: { file: string; args: readonly string[]; env: Readonly<Record<string, string>> };
  port: number;
  adminPort: number;
  child: ChildProcess;
  output: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }>;
  stoppedAt?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const prefix = `${uniqueName('deploy')}:`;
const POISON_DEAD_LETTERED = 'message can never be handled: dead-lettering it now';
const dataDir = mkdtempSync(join(tmpdir(), 'aip-deploy-'));
const started: Started[] = [];
let redis: Redis;

async function start(name: string): Promise<Started> {
  const app = DEPLOY_APPS.find((candidate) => candidate.name === name)!;
  const port = await freePort();
  const adminPort = await freePort();
  const stage = runtimeStage(dockerfile, { APP: name, PORT: String(app.port) });
  const command = hostCommand(stage, name, dataDir, {
    // What the ConfigMaps and Secrets of the deployment add; PORT moved to a free port as
    // `docker run -e PORT=…` would, so parallel test runs do not collide.
    ...app.config,
    PORT: String(port),
    // As every Deployment sets it: the admin API and metrics on their own port.
    ADMIN_PORT: String(adminPort),
    ROCKETMQ_ENDPOINTS: testConnection().endpoints,
    REDIS_URL: testRedisUrl(),
    REDIS_PREFIX: prefix,
    ADMIN_TOKEN: 'deploy-test-admin-token-0123456789',
    HOME: dataDir,
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  });
  const child = spawn(command.file, command.args, { cwd: command.cwd, env: command.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const [check, ...checkArgs] = stage.healthcheck ?? [];
  if (!check) throw new Error('the image has no HEALTHCHECK');
  const healthcheck = { file: check === 'node' ? process.execPath : check, args: checkArgs, env: command.env };
  const run: Started = { name, port, adminPort, healthcheck, child, output: [], exit: undefined as never };
  run.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, afterMs: run.stoppedAt ? Date.now() - run.stoppedAt : -1 })));
  child.stdout!.on('data', (chunk: Buffer) => run.output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => run.output.push(chunk.toString()));
  started.push(run);
  return run;
}

/**
 * pino lines at error (50) or fatal (60). A poison message dead-lettered on arrival is not one:
 * this test sends none, but the apps consume the shared topics under their own groups, where
 * the fuzz suite leaves poison by design — dead-lettering it is the behaviour, not a fault.
 */
const errorLines = (output: string[]) =>
  output
    .join('')
    .split('\n')
    .filter((line) => {
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        return entry.level! >= 50 && entry.msg !== POISON_DEAD_LETTERED;
      } catch {
        return /\b(Error|FATAL)\b/.test(line);
      }
    });

beforeAll(async () => {
  redis = new Redis(testRedisUrl());
  if (pending.length > 0) process.stderr.write(`[deploy] not started (no src/main.ts yet, or not in DEPLOY_TEST_APPS): ${pending.join(', ')}\n`);
  const unbuilt = apps.filter((name) => !existsSync(join(root, 'apps', name, 'dist', 'main.js')));
  if (unbuilt.length > 0) throw new Error(`build first (nx run-many -t build): ${unbuilt.join(', ')} have no dist/main.js`);
});

afterAll(async () => {
  for (const run of started) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the image command on the build output', () => {
  it('finds the apps to start', () => {
    expect(apps.length).toBeGreaterThan(0);
  });

  it('starts every app, which becomes ready (broker and Redis reachable) and serves metrics on its admin port only', async () => {
    const runs = await Promise.all(apps.map((name) => start(name)));
    await Promise.all(
      runs.map((run) =>
        eventually(async () => {
          if (run.child.exitCode !== null) throw new Error(`${run.name} exited with ${run.child.exitCode}:\n${run.output.join('')}`);
          const response = await fetch(`http://127.0.0.1:${run.port}/health/ready`).catch(() => undefined);
          return response?.status === 200;
        }, `${run.name} to be ready`, 90_000),
      ),
    );
    for (const run of runs) {
      // Docker's HEALTHCHECK, run as Docker would (same environment as the app): healthy.
      expect(await healthcheckStatus(run)).toBe(0);
      const metrics = await fetch(`http://127.0.0.1:${run.adminPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('aip_process_cpu_seconds_total');
      // Not on the public port, where an ingress routes.
      expect((await fetch(`http://127.0.0.1:${run.port}/metrics`)).status).toBe(404);
    }
  }, 120_000);

  it('drains and exits cleanly on SIGTERM within the grace period', async () => {
    expect(started.length).toBe(apps.length);
    const inference = started.find((run) => run.name === 'inference');
    const workerKeys = inference ? await registeredWorkers() : [];
    for (const run of started) {
      run.stoppedAt = Date.now();
      run.child.kill('SIGTERM');
    }
    const results = await Promise.all(
      started.map(async (run) => {
        const grace = DEPLOY_APPS.find((app) => app.name === run.name)!.terminationGracePeriodSeconds - PRE_STOP_SECONDS;
        const timer = setTimeout(() => run.child.kill('SIGKILL'), grace * 1_000);
        const exit = await run.exit;
        clearTimeout(timer);
        return { name: run.name, ...exit, graceMs: grace * 1_000, errors: errorLines(run.output) };
      }),
    );
    process.stderr.write(`[deploy] SIGTERM → exit: ${results.map((result) => `${result.name} ${result.afterMs} ms (${result.code ?? result.signal})`).join(', ')}\n`);
    for (const result of results) {
      // tini exits with node's status: 0, or 128+15 when NestJS re-raised SIGTERM after its shutdown hooks.
      const clean = result.signal === null && (result.code === 0 || result.code === 143);
      expect({ name: result.name, clean, code: result.code, signal: result.signal, errors: result.errors }).toMatchObject({ clean: true, errors: [] });
      expect(result.afterMs).toBeLessThan(result.graceMs);
    }
    // A stopped app is reported unhealthy by the same HEALTHCHECK.
    expect(await healthcheckStatus(started[0]!)).not.toBe(0);
    // The shutdown hooks really ran: the inference worker withdrew its capacity from the limiter's
    // registry. Its lane stays recorded under its name, now an orphan another worker drains.
    if (inference) {
      expect(workerKeys.length).toBeGreaterThan(0);
      const left = await registeredWorkers();
      expect(left.filter((entry) => !/:lanes \d+$/.test(entry))).toEqual([]);
      expect(left.filter((entry) => /:lanes \d+$/.test(entry))).toHaveLength(1);
    }
  }, 120_000);
});

function healthcheckStatus(run: Started): Promise<number | null> {
  return new Promise((resolve) => {
    const check = spawn(run.healthcheck.file, [...run.healthcheck.args], { env: run.healthcheck.env, stdio: 'ignore' });
    check.once('exit', (code) => resolve(code));
  });
}

/** Inference workers in the limiter's capacity registry under our prefix (only ours can be there). */
async function registeredWorkers(): Promise<string[]> {
  const found: string[] = [];
  for (const key of await redis.keys(`${prefix}rl:*`)) {
    const type = await redis.type(key);
    const members = type === 'hash' ? await redis.hkeys(key) : type === 'zset' ? await redis.zrange(key, 0, -1) : type === 'set' ? await redis.smembers(key) : [];
    found.push(...members.map((member) => `${key} ${member}`));
  }
  return found;
}
