// Start / stop / inspect a real Apache RocketMQ 5 (name server + proxy in LOCAL mode with the broker
// embedded) from Maven Central artifacts, sized for a 2-core machine. Everything lives under the
// project-local runtime folder (default <repo>/.runtime/rocketmq). Node built-ins only; erasable
// TypeScript so that `node tools/rocketmq/cli.ts` runs it directly.
//
// Programmatic API (e.g. for a Jest globalSetup):
//   const { endpoints } = await ensureBroker();              // idempotent
//   await createTopics([{ name: 't', messageType: 'FIFO' }]);
//   await createGroups([{ name: 'g', orderly: true, retryMaxTimes: 3 }]);
//   await stopBroker();

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { RemotingError, RequestCode, ResponseCode, invoke, parseLenientJson, useAdminCredentials, withConnection, type BrokerCredentials } from './remoting.ts';

/** Pinned RocketMQ release (Maven Central group org.apache.rocketmq). */
export const ROCKETMQ_VERSION = '5.5.0';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
const CLUSTER = 'DefaultCluster';
const BROKER_NAME = 'broker-a';
/** Topic created by ensureBroker and used by the gRPC readiness probe. */
export const HEALTH_TOPIC = 'aip-rmq-healthcheck';

export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';
export interface TopicSpec { name: string; messageType: MessageType }
export interface GroupSpec { name: string; orderly: boolean; retryMaxTimes: number }

export interface BrokerOptions {
  /** RocketMQ version; default ROCKETMQ_VERSION or env ROCKETMQ_VERSION. */
  version?: string;
  /** Runtime folder; default env ROCKETMQ_RUNTIME_DIR or <repo>/.runtime/rocketmq. */
  runtimeDir?: string;
  namesrvPort?: number;
  /** Proxy gRPC port (what rocketmq-client-nodejs talks to). */
  proxyPort?: number;
  /** Proxy remoting port (4.x-protocol clients). */
  remotingPort?: number;
  /** Broker listen port; the broker also binds port-2 (fast channel) and port+1 (HA). */
  brokerPort?: number;
  /** Overall readiness timeout for ensureBroker (ms), default 180 s (first run also downloads jars). */
  startTimeoutMs?: number;
  /** Progress messages; default: silent. */
  log?: (msg: string) => void;
  /**
   * ACL 2.0 on (authentication and authorisation, on the broker and the proxy): `admin` is the
   * super user created on first start, which signs this module's own admin requests and readiness
   * probes. Users and their rights are then applied with `applyAccessControl` (acl.ts).
   */
  auth?: { admin: BrokerCredentials };
}

export interface BrokerEndpoints {
  /** Proxy gRPC endpoint, "host:port" — pass as `endpoints` to rocketmq-client-nodejs. */
  endpoints: string;
  /** Name server "host:port" ('' when ROCKETMQ_ENDPOINTS points at an external proxy). */
  namesrv: string;
  startedByUs: boolean;
}

export interface ResolvedConfig {
  auth?: { admin: BrokerCredentials };
  version: string;
  runtimeDir: string;
  libDir: string;
  homeDir: string;
  confDir: string;
  storeDir: string;
  runDir: string;
  logDir: string;
  rocketmqLogDir: string;
  host: string;
  namesrvPort: number;
  proxyPort: number;
  remotingPort: number;
  brokerPort: number;
  namesrvAddr: string;
  endpoints: string;
  brokerAddr: string;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${v} is not a valid port`);
  return n;
}

export function resolveConfig(opts: BrokerOptions = {}): ResolvedConfig {
  const version = opts.version ?? process.env.ROCKETMQ_VERSION ?? ROCKETMQ_VERSION;
  const runtimeDir = path.resolve(opts.runtimeDir ?? process.env.ROCKETMQ_RUNTIME_DIR
    ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.runtime', 'rocketmq'));
  const host = '127.0.0.1';
  const namesrvPort = opts.namesrvPort ?? envInt('ROCKETMQ_NAMESRV_PORT') ?? 9876;
  const proxyPort = opts.proxyPort ?? envInt('ROCKETMQ_PROXY_PORT') ?? 8081;
  const remotingPort = opts.remotingPort ?? envInt('ROCKETMQ_REMOTING_PORT') ?? 8080;
  const brokerPort = opts.brokerPort ?? envInt('ROCKETMQ_BROKER_PORT') ?? 10911;
  const homeDir = path.join(runtimeDir, 'home');
  return {
    ...(opts.auth ? { auth: opts.auth } : {}),
    version,
    runtimeDir,
    libDir: path.join(runtimeDir, 'lib', version),
    homeDir,
    confDir: path.join(runtimeDir, 'conf'),
    storeDir: path.join(runtimeDir, 'store'),
    runDir: path.join(runtimeDir, 'run'),
    logDir: path.join(runtimeDir, 'logs'),
    rocketmqLogDir: path.join(homeDir, 'logs', 'rocketmqlogs'),
    host,
    namesrvPort,
    proxyPort,
    remotingPort,
    brokerPort,
    namesrvAddr: `${host}:${namesrvPort}`,
    endpoints: `${host}:${proxyPort}`,
    brokerAddr: `${host}:${brokerPort}`,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Jars from Maven Central

function pomXml(version: string): string {
  const dep = (a: string) =>
    `    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>${a}</artifactId><version>${version}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by tools/rocketmq/broker.ts: resolves the RocketMQ ${version} server + admin classpath -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.aip</groupId>
  <artifactId>rocketmq-runtime</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('rocketmq-namesrv')}
${dep('rocketmq-proxy')}
${dep('rocketmq-tools')}
  </dependencies>
</project>
`;
}

/** Downloads (once) the RocketMQ jars with their dependencies into lib/<version>. Returns the folder. */
export function resolveJars(cfg: ResolvedConfig = resolveConfig(), log: (m: string) => void = () => {}): string {
  const marker = path.join(cfg.libDir, '.complete');
  if (fs.existsSync(marker)) return cfg.libDir;
  const mavenDir = path.join(cfg.runtimeDir, 'maven');
  fs.mkdirSync(mavenDir, { recursive: true });
  const pom = path.join(mavenDir, `pom-${cfg.version}.xml`);
  fs.writeFileSync(pom, pomXml(cfg.version));
  const tmp = `${cfg.libDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const mvn = process.env.ROCKETMQ_MVN ?? 'mvn';
  log(`resolving RocketMQ ${cfg.version} jars with Maven (first run only) ...`);
  const t0 = Date.now();
  const res = spawnSync(mvn, ['-B', '-q', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error || res.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const out = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`Maven could not resolve org.apache.rocketmq ${cfg.version} (${mvn}): ${res.error?.message ?? `exit ${res.status}`}\n${out}`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  fs.rmSync(cfg.libDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(cfg.libDir), { recursive: true });
  fs.renameSync(tmp, cfg.libDir);
  log(`jars resolved in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${cfg.libDir}`);
  return cfg.libDir;
}

// ---------------------------------------------------------------------------------------------
// Config files

function writeConfigs(cfg: ResolvedConfig): { namesrvConf: string; proxyConf: string; brokerConf: string } {
  for (const d of [cfg.homeDir, cfg.confDir, cfg.storeDir, cfg.runDir, cfg.logDir]) fs.mkdirSync(d, { recursive: true });
  const namesrvConf = path.join(cfg.confDir, 'namesrv.conf');
  fs.writeFileSync(namesrvConf, [
    '# generated by tools/rocketmq/broker.ts',
    `listenPort=${cfg.namesrvPort}`,
    'clientRequestThreadPoolNums=2',
    'defaultThreadPoolNums=4',
    '',
  ].join('\n'));

  const brokerConf = path.join(cfg.confDir, 'broker.conf');
  const store = cfg.storeDir;
  fs.writeFileSync(brokerConf, [
    '# generated by tools/rocketmq/broker.ts — small single-node broker for development and tests',
    `brokerClusterName=${CLUSTER}`,
    `brokerName=${BROKER_NAME}`,
    'brokerId=0',
    'brokerRole=ASYNC_MASTER',
    'flushDiskType=ASYNC_FLUSH',
    `namesrvAddr=${cfg.namesrvAddr}`,
    `brokerIP1=${cfg.host}`,
    `listenPort=${cfg.brokerPort}`,
    `haListenPort=${cfg.brokerPort + 1}`,
    `storePathRootDir=${store}`,
    `storePathCommitLog=${path.join(store, 'commitlog')}`,
    // Small mapped files: the store maps whole files; defaults are 1 GiB commitlog, 6 MB per queue.
    `mappedFileSizeCommitLog=${32 * 1024 * 1024}`,
    `mappedFileSizeConsumeQueue=${20 * 30000}`,
    `mappedFileSizeTimerLog=${8 * 1024 * 1024}`,
    'timerMaxDelaySec=86400',
    // The timer wheel (fixed 38.7 MB, 7 days of 1 s slots) is flushed by comparing it byte by byte
    // with a copy: every 1 s by default, which alone costs ~12 % of a core on an idle broker.
    'timerFlushIntervalMs=10000',
    // Disk usage guards: do not refuse writes / purge on a full-ish developer disk.
    'diskMaxUsedSpaceRatio=98',
    'diskSpaceWarningLevelRatio=98',
    'diskSpaceCleanForciblyRatio=97',
    'fileReservedTime=24',
    // Topics are created explicitly (the proxy answers TOPIC_NOT_EXIST for unknown topics anyway).
    'autoCreateTopicEnable=false',
    'autoCreateSubscriptionGroup=true',
    'enablePropertyFilter=true',
    'traceTopicEnable=false',
    // A busy 2-core CI machine: do not fail sends after 200 ms in the send queue.
    'waitTimeMillsInSendQueue=3000',
    'osPageCacheBusyTimeOutMills=5000',
    ...(cfg.auth ? authBrokerLines(cfg.auth.admin) : []),
    '',
  ].join('\n'));

  const proxyConf = path.join(cfg.confDir, 'rmq-proxy.json');
  fs.writeFileSync(proxyConf, `${JSON.stringify({
    rocketMQClusterName: CLUSTER,
    proxyClusterName: CLUSTER,
    proxyName: 'aip-local-proxy',
    proxyMode: 'LOCAL',
    namesrvAddr: cfg.namesrvAddr,
    grpcServerPort: cfg.proxyPort,
    remotingListenPort: cfg.remotingPort,
    brokerConfigPath: brokerConf,
    grpcShutdownTimeSeconds: 3,
    grpcThreadPoolNums: 8,
    grpcWorkerLoopNum: 2,
    enablePrintJstack: false,
    metricCollectorMode: 'off',
    // The proxy caches "topic not found" for topicRouteServiceCacheRefreshSeconds (default 20 s):
    // a client that asked for a topic before it was created kept failing for ~20 s.
    topicRouteServiceCacheRefreshSeconds: 2,
    ...(cfg.auth ? authProxySettings(cfg.auth.admin) : {}),
  }, null, 2)}\n`);
  return { namesrvConf, proxyConf, brokerConf };
}

const AUTH = 'org.apache.rocketmq.auth';

/**
 * ACL 2.0 on the broker: users and ACLs kept in its local store; `admin` is the first (super) user.
 * The container broker gets the same lines (tools/deploy renders them into its start script).
 */
export function authBrokerLines(admin: BrokerCredentials): string[] {
  return [
    'authenticationEnabled=true',
    `authenticationProvider=${AUTH}.authentication.provider.DefaultAuthenticationProvider`,
    `authenticationMetadataProvider=${AUTH}.authentication.provider.LocalAuthenticationMetadataProvider`,
    'authorizationEnabled=true',
    `authorizationProvider=${AUTH}.authorization.provider.DefaultAuthorizationProvider`,
    `authorizationMetadataProvider=${AUTH}.authorization.provider.LocalAuthorizationMetadataProvider`,
    `initAuthenticationUser=${JSON.stringify({ username: admin.accessKey, password: admin.secretKey })}`,
    `innerClientAuthenticationCredentials=${JSON.stringify({ accessKey: admin.accessKey, secretKey: admin.secretKey })}`,
  ];
}

/** ACL 2.0 on the proxy's gRPC port, with the users and ACLs read from the broker (containers too). */
export function authProxySettings(admin: BrokerCredentials): Record<string, unknown> {
  return {
    authenticationEnabled: true,
    authenticationProvider: `${AUTH}.authentication.provider.DefaultAuthenticationProvider`,
    authenticationMetadataProvider: 'org.apache.rocketmq.proxy.auth.ProxyAuthenticationMetadataProvider',
    authorizationEnabled: true,
    authorizationProvider: `${AUTH}.authorization.provider.DefaultAuthorizationProvider`,
    authorizationMetadataProvider: 'org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider',
    innerClientAuthenticationCredentials: JSON.stringify({ accessKey: admin.accessKey, secretKey: admin.secretKey }),
  };
}

// ---------------------------------------------------------------------------------------------
// JVM processes

type Role = 'namesrv' | 'proxy';
const MAIN_CLASS: Record<Role, string> = {
  namesrv: 'org.apache.rocketmq.namesrv.NamesrvStartup',
  proxy: 'org.apache.rocketmq.proxy.ProxyStartup',
};

const JAVA17_OPENS = [
  'java.base/java.lang', 'java.base/java.lang.reflect', 'java.base/java.io', 'java.base/java.net', 'java.base/java.nio',
  'java.base/java.util', 'java.base/java.util.concurrent', 'java.base/sun.nio.ch', 'java.base/jdk.internal.ref',
  'java.base/jdk.internal.misc',
].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]);
const JAVA17_EXPORTS = ['java.base/jdk.internal.ref', 'java.base/sun.nio.ch', 'java.base/jdk.internal.misc']
  .flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]);

function javaBin(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

export function jvmArgs(role: Role, cfg: ResolvedConfig): string[] {
  const heap = role === 'namesrv' ? ['-Xms64m', '-Xmx128m'] : ['-Xms128m', '-Xmx384m'];
  const extra = (process.env[role === 'namesrv' ? 'ROCKETMQ_NAMESRV_JAVA_OPTS' : 'ROCKETMQ_PROXY_JAVA_OPTS'] ?? '')
    .split(/\s+/).filter(Boolean);
  return [
    '-server', ...heap,
    '-XX:+UseSerialGC',
    // No -XX:TieredStopAtLevel=1: measured, C1-only made restarts slower (~22 s vs ~9 s) and the
    // idle broker busier (its background loops stay in slow C1 code).
    '-XX:MaxMetaspaceSize=160m',
    '-XX:ReservedCodeCacheSize=64m',
    `-XX:MaxDirectMemorySize=${role === 'namesrv' ? '64m' : '256m'}`,
    '-Xss512k',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.net.preferIPv4Stack=true',
    '-Dfile.encoding=UTF-8',
    `-Duser.home=${cfg.homeDir}`,
    `-Drocketmq.home.dir=${cfg.homeDir}`,
    `-Drmq.logback.configurationFile=rmq.${role}.logback.xml`,
    ...JAVA17_OPENS, ...JAVA17_EXPORTS,
    ...extra,
    '-cp', `${cfg.libDir}${path.sep}*`,
  ];
}

function pidFile(cfg: ResolvedConfig, role: Role): string {
  return path.join(cfg.runDir, `${role}.pid`);
}

function readPid(cfg: ResolvedConfig, role: Role): number | undefined {
  try {
    const n = Number(fs.readFileSync(pidFile(cfg, role), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** True when pid is alive and is our JVM for `role` (guards against pid reuse). */
function isOurProcess(pid: number, role: Role): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(MAIN_CLASS[role]);
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

function runningPid(cfg: ResolvedConfig, role: Role): number | undefined {
  const pid = readPid(cfg, role);
  return pid !== undefined && isOurProcess(pid, role) ? pid : undefined;
}

function spawnJvm(role: Role, cfg: ResolvedConfig, appArgs: string[]): number {
  const outPath = path.join(cfg.logDir, `${role}.out`);
  const fd = fs.openSync(outPath, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} starting ${role} (RocketMQ ${cfg.version}) =====\n`);
  const child = spawn(javaBin(), [...jvmArgs(role, cfg), MAIN_CLASS[role], ...appArgs], {
    cwd: cfg.runtimeDir,
    detached: true,
    stdio: ['ignore', fd, fd],
    // MALLOC_ARENA_MAX: ~250 JVM threads would otherwise get up to 8 x cores glibc malloc arenas.
    env: { MALLOC_ARENA_MAX: '2', ...process.env, ROCKETMQ_HOME: cfg.homeDir, NAMESRV_ADDR: cfg.namesrvAddr },
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn ${javaBin()} for ${role}`);
  child.unref();
  fs.writeFileSync(pidFile(cfg, role), `${child.pid}\n`);
  return child.pid;
}

function tail(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

function startFailure(cfg: ResolvedConfig, role: Role, why: string): Error {
  const out = path.join(cfg.logDir, `${role}.out`);
  const main = path.join(cfg.rocketmqLogDir, role === 'namesrv' ? 'namesrv.log' : 'proxy.log');
  return new Error(`RocketMQ ${role} did not become ready: ${why}\n` +
    `  stdout/stderr: ${out}\n  logs: ${main}${role === 'proxy' ? `, ${path.join(cfg.rocketmqLogDir, 'broker.log')}` : ''}\n` +
    `--- tail of ${out} ---\n${tail(out)}`);
}

// ---------------------------------------------------------------------------------------------
// Probes

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

interface ClusterInfo {
  brokerAddrTable: Record<string, { cluster: string; brokerName: string; brokerAddrs: Record<string, string> }>;
  clusterAddrTable: Record<string, string[]>;
}

/** Name server cluster info (GET_BROKER_CLUSTER_INFO) — what `mqadmin clusterList` shows. */
export async function clusterInfo(namesrvAddr: string, timeoutMs = 3000): Promise<ClusterInfo> {
  const res = await invoke(namesrvAddr, RequestCode.GET_BROKER_CLUSTER_INFO, {}, undefined, { timeoutMs });
  return parseLenientJson(res.body.toString('utf8')) as ClusterInfo;
}

/** Master broker addresses registered for `cluster`. */
export async function masterBrokers(namesrvAddr: string, cluster = CLUSTER): Promise<string[]> {
  const info = await clusterInfo(namesrvAddr);
  const names = info.clusterAddrTable?.[cluster] ?? [];
  const addrs: string[] = [];
  for (const n of names) {
    const a = info.brokerAddrTable?.[n]?.brokerAddrs?.['0'];
    if (a) addrs.push(a);
  }
  return addrs;
}

export async function brokerRuntimeInfo(brokerAddr: string): Promise<Record<string, string>> {
  const res = await invoke(brokerAddr, RequestCode.GET_BROKER_RUNTIME_INFO, {}, undefined, { timeoutMs: 3000 });
  const parsed = parseLenientJson(res.body.toString('utf8')) as { table?: Record<string, string> };
  return parsed.table ?? {};
}

// Tiny protobuf writer for the gRPC probe.
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
function pbBytes(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}
function pbVarint(field: number, n: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}
function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++] ?? 0;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}
/** Top-level fields of a protobuf message: field number -> list of raw values. */
function pbFields(buf: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let val: number | Buffer;
    if (wire === 0) {
      [val, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(buf, pos);
      val = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 1) {
      val = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      val = buf.subarray(pos, pos + 4);
      pos += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    out.set(field, [...(out.get(field) ?? []), val]);
  }
  return out;
}

export interface GrpcRouteProbe { code: number; message: string; queues: number }

/**
 * A real gRPC call to the proxy: MessagingService/QueryRoute for `topic`.
 * code 20000 = OK (topic routable through proxy -> name server -> broker), 40402 = topic not found.
 */
export function grpcQueryRoute(endpoints: string, topic: string, timeoutMs = 5000): Promise<GrpcRouteProbe> {
  const i = endpoints.lastIndexOf(':');
  const host = endpoints.slice(0, i);
  const port = Number(endpoints.slice(i + 1));
  const req = Buffer.concat([
    pbBytes(1, pbBytes(2, Buffer.from(topic))),
    pbBytes(2, Buffer.concat([pbVarint(1, 1), pbBytes(2, Buffer.concat([pbBytes(1, Buffer.from(host)), pbVarint(2, port)]))])),
  ]);
  const frame = Buffer.alloc(5 + req.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(req.length, 1);
  req.copy(frame, 5);
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${endpoints}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`gRPC QueryRoute to ${endpoints} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/apache.rocketmq.v2.MessagingService/QueryRoute',
      'content-type': 'application/grpc',
      te: 'trailers',
      'x-mq-language': 'NODE_JS',
      'x-mq-protocol': 'v2',
      'x-mq-client-version': 'aip-rmq-probe',
      'x-mq-client-id': `aip-probe-${process.pid}`,
      'x-mq-request-id': `${Date.now()}`,
      ...grpcAuthHeaders(),
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus ?? '');
      grpcMessage = String(trailers['grpc-message'] ?? '');
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', fail);
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      if (grpcStatus !== '0') {
        reject(new Error(`gRPC QueryRoute failed: grpc-status=${grpcStatus} ${decodeURIComponent(grpcMessage)}`));
        return;
      }
      const data = Buffer.concat(chunks);
      if (data.length < 5) {
        reject(new Error('gRPC QueryRoute: empty response'));
        return;
      }
      const msg = data.subarray(5, 5 + data.readUInt32BE(1));
      const fields = pbFields(msg);
      const status = fields.get(1)?.[0];
      const sf = Buffer.isBuffer(status) ? pbFields(status) : new Map<number, (number | Buffer)[]>();
      const code = Number(sf.get(1)?.[0] ?? 0);
      const m = sf.get(2)?.[0];
      resolve({ code, message: Buffer.isBuffer(m) ? m.toString('utf8') : '', queues: fields.get(2)?.length ?? 0 });
    });
    stream.end(frame);
  });
}

let probeCredentials: BrokerCredentials | undefined;

/** What the Node client sends to a proxy with authentication on: an HMAC-SHA1 of the request time. */
function grpcAuthHeaders(): Record<string, string> {
  if (!probeCredentials) return {};
  const dateTime = `${new Date().toISOString().split('.')[0]!.replace(/[-:]/g, '')}Z`;
  const signature = createHmac('sha1', probeCredentials.secretKey).update(dateTime).digest('hex').toUpperCase();
  return { 'x-mq-date-time': dateTime, authorization: `MQv2-HMAC-SHA1 Credential=${probeCredentials.accessKey}, SignedHeaders=x-mq-date-time, Signature=${signature}` };
}

/** True when the proxy at `endpoints` routes the health topic over gRPC. */
export async function proxyReady(endpoints: string): Promise<boolean> {
  try {
    const r = await grpcQueryRoute(endpoints, HEALTH_TOPIC, 3000);
    return r.code === 20000 && r.queues > 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Start / stop

function acquireLock(cfg: ResolvedConfig): (() => void) | undefined {
  fs.mkdirSync(cfg.runDir, { recursive: true });
  const lock = path.join(cfg.runDir, 'start.lock');
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    return () => fs.rmSync(lock, { force: true });
  } catch {
    const holder = Number(fs.readFileSync(lock, 'utf8').trim());
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) {
      fs.rmSync(lock, { force: true });
      return acquireLock(cfg);
    }
    return undefined;
  }
}

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
    probeCredentials = cfg.auth.admin;
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

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export interface BrokerStatus {
  version: string;
  runtimeDir: string;
  namesrv: { addr: string; pid?: number; running: boolean; answering: boolean; rssMb?: number };
  proxy: { endpoints: string; remotingPort: number; brokerAddr: string; pid?: number; running: boolean; grpcReady: boolean; rssMb?: number };
  brokers: { name: string; addrs: Record<string, string> }[];
  brokerVersion?: string;
}

export async function brokerStatus(opts: BrokerOptions = {}): Promise<BrokerStatus> {
  const cfg = resolveConfig(opts);
  const nsPid = runningPid(cfg, 'namesrv');
  const pxPid = runningPid(cfg, 'proxy');
  let answering = false;
  let brokers: BrokerStatus['brokers'] = [];
  try {
    const info = await clusterInfo(cfg.namesrvAddr, 1500);
    answering = true;
    brokers = Object.values(info.brokerAddrTable ?? {}).map((b) => ({ name: b.brokerName, addrs: b.brokerAddrs }));
  } catch {
    answering = false;
  }
  let brokerVersion: string | undefined;
  try {
    brokerVersion = (await brokerRuntimeInfo(cfg.brokerAddr)).brokerVersionDesc;
  } catch {
    brokerVersion = undefined;
  }
  return {
    version: cfg.version,
    runtimeDir: cfg.runtimeDir,
    namesrv: { addr: cfg.namesrvAddr, pid: nsPid, running: nsPid !== undefined, answering, rssMb: nsPid ? rssMb(nsPid) : undefined },
    proxy: {
      endpoints: cfg.endpoints, remotingPort: cfg.remotingPort, brokerAddr: cfg.brokerAddr, pid: pxPid,
      running: pxPid !== undefined, grpcReady: await proxyReady(cfg.endpoints), rssMb: pxPid ? rssMb(pxPid) : undefined,
    },
    brokers,
    brokerVersion,
  };
}

// ---------------------------------------------------------------------------------------------
// Topics and groups (remoting admin requests straight to the broker, see remoting.ts for why)

export interface AdminOptions extends BrokerOptions {
  /** Name server to ask for the brokers; default from env/ports. */
  namesrv?: string;
  /** Read/write queues for new topics (default env ROCKETMQ_TOPIC_QUEUES or 4). */
  queueNums?: number;
  /** Talk to these broker addresses instead of asking the name server for the cluster's masters. */
  brokerAddrs?: string[];
}

export interface ApplyResult { created: string[]; updated: string[]; unchanged: string[] }

const TOPIC_TYPES: readonly MessageType[] = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'];

export async function adminBrokers(opts: AdminOptions): Promise<string[]> {
  if (opts.brokerAddrs?.length) return opts.brokerAddrs;
  const namesrv = opts.namesrv ?? process.env.ROCKETMQ_NAMESRV ?? resolveConfig(opts).namesrvAddr;
  const brokers = await masterBrokers(namesrv);
  if (brokers.length === 0) throw new Error(`no master broker of cluster ${CLUSTER} is registered at ${namesrv}`);
  return brokers;
}

/**
 * Creates (or fixes the message type of) topics in one request per broker. Topics that already
 * exist with the same message type are left alone. Fast: a few ms for hundreds of topics.
 */
export async function createTopics(topics: TopicSpec[], opts: AdminOptions = {}): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [], unchanged: [] };
  if (topics.length === 0) return result;
  const seen = new Map<string, MessageType>();
  for (const t of topics) {
    if (!TOPIC_TYPES.includes(t.messageType)) throw new Error(`topic ${t.name}: unknown messageType ${t.messageType}`);
    const prev = seen.get(t.name);
    if (prev && prev !== t.messageType) throw new Error(`topic ${t.name} listed twice with different message types (${prev}, ${t.messageType})`);
    seen.set(t.name, t.messageType);
  }
  const queueNums = opts.queueNums ?? Number(process.env.ROCKETMQ_TOPIC_QUEUES ?? 4);
  for (const broker of await adminBrokers(opts)) {
    await withConnection(broker, async (c) => {
      // topicSeq/maxTopicNum: 5.5 pages this request when enableSplitMetadata=true and logs an error when absent
      const all = await c.request(RequestCode.GET_ALL_TOPIC_CONFIG, { topicSeq: 0, maxTopicNum: 2147483647 }, undefined, 10_000);
      if (all.code !== ResponseCode.SUCCESS) throw new RemotingError(`GET_ALL_TOPIC_CONFIG on ${broker}: ${all.code} ${all.remark ?? ''}`, all.code);
      const table = (parseLenientJson(all.body.toString('utf8')) as {
        topicConfigTable?: Record<string, { readQueueNums: number; writeQueueNums: number; perm: number; attributes?: Record<string, string> }>;
      }).topicConfigTable ?? {};
      const changes: object[] = [];
      for (const [name, type] of seen) {
        const existing = table[name];
        const existingType = existing ? (existing.attributes?.['message.type'] ?? 'NORMAL') : undefined;
        if (existing && existingType === type && (existing.perm & 6) === 6) {
          result.unchanged.push(name);
          continue;
        }
        (existing ? result.updated : result.created).push(name);
        changes.push({
          topicName: name,
          readQueueNums: existing?.readQueueNums ?? queueNums,
          writeQueueNums: existing?.writeQueueNums ?? queueNums,
          perm: 6,
          topicFilterType: 'SINGLE_TAG',
          topicSysFlag: 0,
          order: false,
          attributes: { '+message.type': type },
        });
      }
      if (changes.length === 0) return;
      // NB: the broker's UPDATE_AND_CREATE_TOPIC_LIST returns SUCCESS without creating anything
      // as soon as ONE listed topic is unchanged — which is why unchanged topics are filtered above.
      const res = await c.request(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {}, JSON.stringify({ topicConfigList: changes }), 30_000);
      if (res.code !== ResponseCode.SUCCESS) {
        throw new RemotingError(`creating topics on ${broker} failed: code=${res.code} ${res.remark ?? ''}`, res.code);
      }
    });
  }
  return result;
}

/**
 * Creates or updates consumer groups in one request per broker. `orderly` = consumeMessageOrderly
 * (the proxy then hands FIFO delivery to gRPC consumers); retryMaxTimes = redeliveries before the
 * message goes to %DLQ%<group> (the proxy's max delivery attempts is retryMaxTimes + 1).
 */
export async function createGroups(groups: GroupSpec[], opts: AdminOptions = {}): Promise<ApplyResult> {
  const result: ApplyResult = { created: [], updated: [], unchanged: [] };
  if (groups.length === 0) return result;
  const wanted = new Map<string, GroupSpec>();
  for (const g of groups) {
    if (!Number.isInteger(g.retryMaxTimes) || g.retryMaxTimes < 0) throw new Error(`group ${g.name}: retryMaxTimes must be an integer >= 0`);
    const prev = wanted.get(g.name);
    if (prev && (prev.orderly !== g.orderly || prev.retryMaxTimes !== g.retryMaxTimes)) {
      throw new Error(`group ${g.name} listed twice with different settings`);
    }
    wanted.set(g.name, g);
  }
  for (const broker of await adminBrokers(opts)) {
    await withConnection(broker, async (c) => {
      const all = await c.request(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, { groupSeq: 0, maxGroupNum: 2147483647 }, undefined, 10_000);
      if (all.code !== ResponseCode.SUCCESS) throw new RemotingError(`GET_ALL_SUBSCRIPTIONGROUP_CONFIG on ${broker}: ${all.code} ${all.remark ?? ''}`, all.code);
      const table = (parseLenientJson(all.body.toString('utf8')) as {
        subscriptionGroupTable?: Record<string, Record<string, unknown>>;
      }).subscriptionGroupTable ?? {};
      const changes: object[] = [];
      for (const g of wanted.values()) {
        const existing = table[g.name];
        if (existing && existing.consumeMessageOrderly === g.orderly && existing.retryMaxTimes === g.retryMaxTimes
          && existing.consumeEnable !== false) {
          result.unchanged.push(g.name);
          continue;
        }
        (existing ? result.updated : result.created).push(g.name);
        changes.push({
          // keep whatever the broker already had (e.g. an auto-created group), override ours
          consumeBroadcastEnable: false,
          consumeFromMinEnable: true,
          retryQueueNums: 1,
          brokerId: 0,
          whichBrokerWhenConsumeSlowly: 1,
          notifyConsumerIdsChangedEnable: true,
          groupSysFlag: 0,
          consumeTimeoutMinute: 15,
          ...(existing ?? {}),
          groupName: g.name,
          consumeEnable: true,
          consumeMessageOrderly: g.orderly,
          retryMaxTimes: g.retryMaxTimes,
        });
      }
      if (changes.length === 0) return;
      const res = await c.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, {}, JSON.stringify({ groupConfigList: changes }), 30_000);
      if (res.code !== ResponseCode.SUCCESS) {
        throw new RemotingError(`creating groups on ${broker} failed: code=${res.code} ${res.remark ?? ''}`, res.code);
      }
    });
  }
  return result;
}

/** Topic route as the name server sees it (undefined when the topic does not exist). */
export async function topicRoute(topic: string, opts: AdminOptions = {}): Promise<unknown> {
  const namesrv = opts.namesrv ?? process.env.ROCKETMQ_NAMESRV ?? resolveConfig(opts).namesrvAddr;
  const res = await invoke(namesrv, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }, undefined,
    { okCodes: [ResponseCode.SUCCESS, ResponseCode.TOPIC_NOT_EXIST] });
  return res.code === ResponseCode.SUCCESS ? parseLenientJson(res.body.toString('utf8')) : undefined;
}

/** How to run mqadmin (org.apache.rocketmq.tools.command.MQAdminStartup) with the broker's jars. */
export function mqadminCommand(opts: BrokerOptions = {}): { file: string; jvmArgs: string[]; mainClass: string; env: NodeJS.ProcessEnv } {
  const cfg = resolveConfig(opts);
  resolveJars(cfg);
  fs.mkdirSync(cfg.homeDir, { recursive: true });
  const jvm = ['-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Duser.home=${cfg.homeDir}`,
    '-Drmq.logback.configurationFile=rmq.tools.logback.xml', ...JAVA17_OPENS, '-cp', `${cfg.libDir}${path.sep}*`];
  return { file: javaBin(), jvmArgs: jvm, mainClass: 'org.apache.rocketmq.tools.command.MQAdminStartup', env: { ...process.env, ROCKETMQ_HOME: cfg.homeDir } };
}

/** Runs mqadmin against the local name server. */
export function mqadmin(args: string[], opts: BrokerOptions = {}): number {
  const cfg = resolveConfig(opts);
  const command = mqadminCommand(opts);
  const hasN = args.includes('-n');
  const res = spawnSync(command.file, [...command.jvmArgs, command.mainClass, ...args, ...(hasN || args.length === 0 ? [] : ['-n', cfg.namesrvAddr])], {
    stdio: 'inherit', env: command.env,
  });
  return res.status ?? 1;
}
