// Questions to the running processes over plain TCP and the remoting protocol: is a port open,
// what does the name server know about the cluster, which masters are registered, does the broker
// answer. Used by the start sequence, the status and the admin requests.

import net from 'node:net';
import { CLUSTER } from './config.ts';
import { RequestCode, invoke, parseLenientJson } from './remoting.ts';

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
