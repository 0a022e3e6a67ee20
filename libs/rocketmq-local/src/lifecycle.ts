// Start and stop: `ensureBroker` brings the name server and the proxy (with its embedded broker) up
// in a fixed sequence of readiness checks, `stopBroker` stops the JVMs this tool started,
// `wipeBroker` also deletes their state.

import fs from 'node:fs';
import path from 'node:path';
import { createTopics } from './admin.ts';
import { HEALTH_TOPIC, resolveConfig, type BrokerEndpoints, type BrokerOptions } from './config.ts';
import { writeConfigs } from './conf-files.ts';
import { proxyReady, useProbeCredentials } from './grpc-probe.ts';
import { resolveJars } from './jars.ts';
import { isOurProcess, pidFile, readPid, runningPid, spawnJvm, startFailure, type Role } from './jvm.ts';
import { acquireLock } from './lock.ts';
import { brokerRuntimeInfo, clusterInfo, masterBrokers, portOpen } from './probes.ts';
import { RequestCode, invoke, useAdminCredentials } from './remoting.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(what: string, deadline: number, check: () => Promise<boolean>, onFail: (why: string) => Error,
  alive?: () => boolean): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (alive && !alive()) throw onFail(`process exited while waiting for ${what}${last ? ` (${last})` : ''}`);
    await sleep(500);
  }
  throw onFail(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}

/**
 * Makes sure a RocketMQ name server + proxy (LOCAL mode, embedded broker) answers, starting them when
 * needed. Idempotent and safe to call concurrently (a lock file serialises starts).
 * With env ROCKETMQ_ENDPOINTS set, starts nothing and returns it (ROCKETMQ_NAMESRV as namesrv).
 */
export async function ensureBroker(opts: BrokerOptions = {}): Promise<BrokerEndpoints> {
  const external = process.env.ROCKETMQ_ENDPOINTS;
  if (external) {
    return { endpoints: external, namesrv: process.env.ROCKETMQ_NAMESRV ?? '', startedByUs: false };
  }
  const cfg = resolveConfig(opts);
  const log = opts.log ?? (() => {});
  if (cfg.auth) {
    // Admin requests and readiness probes of this process are signed from now on.
    useAdminCredentials(cfg.auth.admin);
    useProbeCredentials(cfg.auth.admin);
  }
  const deadline = Date.now() + (opts.startTimeoutMs ?? 180_000);
  const result = (startedByUs: boolean): BrokerEndpoints => ({ endpoints: cfg.endpoints, namesrv: cfg.namesrvAddr, startedByUs });

  if (await proxyReady(cfg.endpoints)) return result(false);

  let release = acquireLock(cfg);
  while (!release) {
    // Someone else is starting it: wait for them, then re-check.
    if (Date.now() > deadline) throw new Error(`timed out waiting for another process to start RocketMQ (lock ${path.join(cfg.runDir, 'start.lock')})`);
    await sleep(1000);
    if (await proxyReady(cfg.endpoints)) return result(false);
    release = acquireLock(cfg);
  }
  try {
    if (await proxyReady(cfg.endpoints)) return result(false);
    const t0 = Date.now();
    resolveJars(cfg, log);
    const { namesrvConf, proxyConf, brokerConf } = writeConfigs(cfg);

    // --- name server
    let namesrvPid = runningPid(cfg, 'namesrv');
    if (namesrvPid === undefined) {
      if (await portOpen(cfg.host, cfg.namesrvPort)) {
        // Something answers there: accept it if it is a name server, otherwise refuse.
        try {
          await clusterInfo(cfg.namesrvAddr);
          log(`using the name server already listening on ${cfg.namesrvAddr}`);
        } catch {
          throw new Error(`port ${cfg.namesrvPort} is in use by something that is not a RocketMQ name server (set ROCKETMQ_NAMESRV_PORT)`);
        }
      } else {
        namesrvPid = spawnJvm('namesrv', cfg, ['-c', namesrvConf]);
        log(`name server starting (pid ${namesrvPid}) on ${cfg.namesrvAddr}`);
      }
    }
    const nsPid = namesrvPid;
    await waitFor('the name server', deadline, async () => {
      await clusterInfo(cfg.namesrvAddr, 1500);
      return true;
    }, (why) => startFailure(cfg, 'namesrv', why), nsPid === undefined ? undefined : () => isOurProcess(nsPid, 'namesrv'));

    // --- proxy + embedded broker
    let proxyPid = runningPid(cfg, 'proxy');
    if (proxyPid === undefined) {
      for (const p of [cfg.proxyPort, cfg.remotingPort, cfg.brokerPort]) {
        if (await portOpen(cfg.host, p)) {
          throw new Error(`port ${p} is in use but no RocketMQ proxy started by this tool runs ` +
            `(set ROCKETMQ_PROXY_PORT / ROCKETMQ_REMOTING_PORT / ROCKETMQ_BROKER_PORT, or stop the other process)`);
        }
      }
      proxyPid = spawnJvm('proxy', cfg, ['-pm', 'local', '-pc', proxyConf, '-bc', brokerConf, '-n', cfg.namesrvAddr]);
      log(`proxy + broker starting (pid ${proxyPid}), gRPC ${cfg.endpoints}`);
    }
    const pxPid = proxyPid;
    const pxAlive = () => isOurProcess(pxPid, 'proxy');
    const pxFail = (why: string) => startFailure(cfg, 'proxy', why);
    const stage = (m: string) => log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${m}`);
    // 1. the embedded broker answers admin requests on its own port
    await waitFor('the broker to answer', deadline, async () => {
      await brokerRuntimeInfo(cfg.brokerAddr);
      return true;
    }, pxFail, pxAlive);
    stage('broker answers admin requests');
    // 2. make the broker register at the name server now: RocketMQ 5.5 in proxy LOCAL mode only
    //    registers from its periodic task, whose first run is 10 s after start. Re-asserting
    //    brokerPermission=6 (read+write, the default) makes the broker call registerBrokerAll at once.
    await invoke(cfg.brokerAddr, RequestCode.UPDATE_BROKER_CONFIG, {}, 'brokerPermission=6\n');
    await createTopics([{ name: HEALTH_TOPIC, messageType: 'NORMAL' }], { brokerAddrs: [cfg.brokerAddr] });
    // 3. the broker is registered at the name server (what `mqadmin clusterList` shows)
    await waitFor('the broker to register at the name server', deadline, async () =>
      (await masterBrokers(cfg.namesrvAddr)).includes(cfg.brokerAddr), pxFail, pxAlive);
    stage('broker registered at the name server');
    // 4. a topic routes through the proxy's gRPC service (proxy -> name server -> broker)
    await waitFor('the proxy gRPC service', deadline, () => proxyReady(cfg.endpoints), pxFail, pxAlive);
    log(`RocketMQ ${cfg.version} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: gRPC ${cfg.endpoints}, name server ${cfg.namesrvAddr}`);
    return result(true);
  } finally {
    release();
  }
}

async function terminate(pid: number, role: Role, timeoutMs: number): Promise<'stopped' | 'killed'> {
  try {
    process.kill(pid, timeoutMs > 0 ? 'SIGTERM' : 'SIGKILL');
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, role)) return 'stopped';
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  while (isOurProcess(pid, role)) await sleep(100);
  return 'killed';
}

/**
 * Stops the proxy (with its broker) and the name server started by this tool: SIGTERM, then SIGKILL
 * after `timeoutMs` (default 30 s; a graceful proxy stop takes ~13 s). `force` sends SIGKILL at once
 * (the broker then recovers its store at the next start — fine for a throw-away test broker).
 */
export async function stopBroker(opts: BrokerOptions & { timeoutMs?: number; force?: boolean } = {}): Promise<{ role: Role; pid: number; result: string }[]> {
  const cfg = resolveConfig(opts);
  const out: { role: Role; pid: number; result: string }[] = [];
  for (const role of ['proxy', 'namesrv'] as Role[]) {
    const pid = readPid(cfg, role);
    if (pid !== undefined && isOurProcess(pid, role)) {
      const t0 = Date.now();
      const r = await terminate(pid, role, opts.force ? 0 : opts.timeoutMs ?? 30_000);
      out.push({ role, pid, result: `${r} in ${((Date.now() - t0) / 1000).toFixed(1)} s` });
    }
    fs.rmSync(pidFile(cfg, role), { force: true });
  }
  return out;
}

/** Stops the broker and deletes its store, logs and generated config (keeps the downloaded jars). */
export async function wipeBroker(opts: BrokerOptions = {}): Promise<string[]> {
  await stopBroker(opts);
  const cfg = resolveConfig(opts);
  const removed = [cfg.storeDir, cfg.logDir, cfg.homeDir, cfg.confDir, cfg.runDir];
  for (const d of removed) fs.rmSync(d, { recursive: true, force: true });
  return removed;
}
