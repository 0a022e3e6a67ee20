import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort } from '@aip/testing';
import { IdempotencyStore } from './idempotency.store.ts';

// Claims against a Redis of this test's own (append-only, so a restart keeps them), restarted
// under the store as the chaos suite does: what a dropped connection must not do to a claim.
const dir = mkdtempSync(join(tmpdir(), 'aip-idem-'));
let port = 0;
let server: ChildProcess | undefined;
let redis: Redis;

async function startServer(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  await eventually(async () => {
    const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const answer = await probe.ping().catch(() => undefined);
    probe.disconnect();
    return answer === 'PONG';
  }, 'redis-server to answer', 10_000);
}

async function stopServer(): Promise<void> {
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  server!.kill('SIGTERM'); // a clean SHUTDOWN: the append-only file keeps every claim
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startServer();
  redis = new Redis(port, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
});

afterAll(async () => {
  redis.disconnect();
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('IdempotencyStore claims', () => {
  it('belong to their holder: the same holder claiming again (a resent command) gets its claim back, another holder is busy', async () => {
    const store = new IdempotencyStore(redis, { prefix: 'owned:' });
    expect(await store.claim('g', 'e1', 'holder-a')).toBe('claimed');
    expect(await store.claim('g', 'e1', 'holder-a')).toBe('claimed');
    expect(await store.claim('g', 'e1', 'holder-b')).toBe('busy');
    // Only the holder can renew or release it.
    await store.release('g', 'e1', 'holder-b');
    expect(await store.claim('g', 'e1', 'holder-b')).toBe('busy');
    await store.release('g', 'e1', 'holder-a');
    expect(await store.claim('g', 'e1', 'holder-b')).toBe('claimed');
    await store.complete('g', 'e1');
    expect(await store.claim('g', 'e1', 'holder-c')).toBe('done');
  });

  it('are given up after a failure even when Redis was down at that moment: the retry is not refused for the claim\'s whole TTL', async () => {
    const store = new IdempotencyStore(redis, { prefix: 'outage:', processingTtlMs: 60_000 });
    let failedAt = 0;
    const failing = store.once('g', 'e2', async () => {
      await stopServer();
      failedAt = Date.now();
      throw new Error('Redis went away mid-handler');
    }, 'holder-a');
    // The handler failed with Redis down; the store keeps trying to give the claim up...
    await eventually(async () => failedAt > 0, 'the handler to fail', 10_000);
    expect(store.outageSince(failedAt - 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await startServer();
    // ...and does once Redis is back: the failure reaches the caller with the claim gone.
    await expect(failing).rejects.toThrow('Redis went away mid-handler');
    await store.reachable(10_000);
    expect(await store.claim('g', 'e2', 'holder-b')).toBe('claimed');
  }, 30_000);

  it('left by a dead holder are waited out, not refused: a redelivery runs once the claim expires, spending no attempt', async () => {
    const store = new IdempotencyStore(redis, { prefix: 'dead:', processingTtlMs: 800 });
    expect(await store.claim('g', 'e3', 'killed-worker')).toBe('claimed'); // never renewed, never released
    let ran = false;
    expect(await store.once('g', 'e3', async () => void (ran = true), 'next-worker')).toBe('ran');
    expect(ran).toBe(true);
    // A live holder that finishes first: the waiting delivery skips instead of running twice.
    expect(await store.claim('g', 'e4', 'live-worker')).toBe('claimed');
    setTimeout(() => void store.complete('g', 'e4'), 200);
    expect(await store.once('g', 'e4', async () => { throw new Error('must not run'); }, 'duplicate')).toBe('skipped');
  });
});

