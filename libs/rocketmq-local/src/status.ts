// What `cli.ts status` prints: the pids, whether each process runs and answers, their resident
// memory, the brokers registered at the name server, the broker version, and whether the proxy
// routes over gRPC.

import fs from 'node:fs';
import { resolveConfig, type BrokerOptions } from './config.ts';
import { proxyReady } from './grpc-probe.ts';
import { runningPid } from './jvm.ts';
import { brokerRuntimeInfo, clusterInfo } from './probes.ts';

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
