// What a local broker is: the pinned version, the cluster name, the options callers
// pass, and `resolveConfig`, which turns them (plus ROCKETMQ_* environment variables) into every
// port, address and folder the other modules use. Everything lives under the project-local runtime
// folder (default <repo>/.runtime/rocketmq).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrokerCredentials } from './remoting.ts';

/** Pinned RocketMQ release (Maven Central group org.apache.rocketmq). */
export const ROCKETMQ_VERSION = '5.5.0';
/** The cluster the broker registers in (and whose masters admin requests go to). */
export const CLUSTER = 'DefaultCluster';
/** Topic created by ensureBroker and used by the gRPC readiness probe. */
export const HEALTH_TOPIC = 'aip-rmq-healthcheck';

export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';
/** `queues`: fewest queues the topic gets (the default count, ROCKETMQ_TOPIC_QUEUES, when that is more). */
export interface TopicSpec { name: string; messageType: MessageType; queues?: number }
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
    // This file sits at libs/rocketmq-local/src/, three levels below the repository root.
    ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.runtime', 'rocketmq'));
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
