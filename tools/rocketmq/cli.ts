#!/usr/bin/env node
// RocketMQ developer CLI. Run from the repository root with Node 24 (type stripping):
//   node --conditions=@aip/source tools/rocketmq/cli.ts <command>
// Commands: start | stop | wipe | status | topics | dlq list <group> | dlq replay <group> | smoke | mqadmin ... | jars
// The broker itself is the library @aip/rocketmq-local (libs/rocketmq-local); this file only parses
// the command line and prints. See tools/rocketmq/README.md.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  brokerStatus, createGroups, createTopics, ensureBroker, mqadmin, resolveConfig, resolveJars, stopBroker, wipeBroker,
} from '@aip/rocketmq-local';
import type { GroupSpec, TopicSpec } from '@aip/rocketmq-local';
import { dlqList, dlqReplay, formatDlqList } from '@aip/rocketmq-local/dlq';

interface Topology { topics: TopicSpec[]; groups: GroupSpec[] }

const USAGE = `usage: node --conditions=@aip/source tools/rocketmq/cli.ts <command>

  start                      start name server + proxy (idempotent), apply the platform topology
  stop [--force]             stop both JVMs (SIGTERM, SIGKILL after 30 s; --force: SIGKILL now)
  wipe                       stop, then delete store, logs and config (keeps the downloaded jars)
  status                     processes, pids, ports, RSS, broker version
  topics                     apply the platform topology (topics + consumer groups) only
  dlq list <group> [--limit N] [--json]
                             browse %DLQ%<group> without consuming it
  dlq replay <group> (--id <messageId> | --all) [--topic <t>] [--wait <s>]
                             re-publish dead letters to their original topic, then ack them in the DLQ
  smoke [--dlq]              end-to-end check with rocketmq-client-nodejs (NORMAL, FIFO order, DLQ + replay)
  mqadmin <args...>          run Apache mqadmin against the local name server
  jars                       only resolve the RocketMQ jars from Maven Central

options for start/topics: --topology <file.json>  use this {topics, groups} instead of @aip/contracts
                          --no-topology           do not apply any topology
                          --namespace <ns>        the contracts' topology in a broker namespace (every topic
                                                  and group <ns>_<name>; default: ROCKETMQ_NAMESPACE, else none)`;

async function loadTopology(file: string | undefined, namespace: string): Promise<Topology> {
  if (file) {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Topology;
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import('@aip/contracts') as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot import @aip/contracts (run from the repo root with --conditions=@aip/source, ` +
      `or pass --topology <file.json>): ${(e as Error).message}`);
  }
  const bt = mod.brokerTopology;
  const topo = (typeof bt === 'function' ? await (bt as (namespace: string) => Topology | Promise<Topology>)(namespace) : bt) as Topology | undefined;
  if (!topo || !Array.isArray(topo.topics) || !Array.isArray(topo.groups)) {
    throw new Error('@aip/contracts brokerTopology did not give { topics: [], groups: [] }');
  }
  return topo;
}

async function applyTopology(topo: Topology): Promise<void> {
  const t0 = Date.now();
  const t = await createTopics(topo.topics);
  const g = await createGroups(topo.groups);
  console.log(`topology applied in ${Date.now() - t0} ms: topics created ${t.created.length}, updated ${t.updated.length}, ` +
    `unchanged ${t.unchanged.length}; groups created ${g.created.length}, updated ${g.updated.length}, unchanged ${g.unchanged.length}`);
  for (const n of [...t.created, ...t.updated]) console.log(`  topic ${n}`);
  for (const n of [...g.created, ...g.updated]) console.log(`  group ${n}`);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const log = (m: string) => console.error(`[rocketmq] ${m}`);
  switch (cmd) {
    case 'start':
    case 'topics': {
      const { values } = parseArgs({ args: rest, options: { topology: { type: 'string' }, 'no-topology': { type: 'boolean' }, namespace: { type: 'string' } } });
      const namespace = values.namespace ?? process.env['ROCKETMQ_NAMESPACE'] ?? '';
      if (cmd === 'start') {
        const t0 = Date.now();
        const r = await ensureBroker({ log });
        log(r.startedByUs ? `started in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'already running');
        if (!values['no-topology']) await applyTopology(await loadTopology(values.topology, namespace));
        console.log(`ROCKETMQ_ENDPOINTS=${r.endpoints}`);
        console.log(`ROCKETMQ_NAMESRV=${r.namesrv}`);
        if (namespace) console.log(`ROCKETMQ_NAMESPACE=${namespace}`);
      } else {
        await applyTopology(await loadTopology(values.topology, namespace));
      }
      return 0;
    }
    case 'stop': {
      const r = await stopBroker({ force: rest.includes('--force') });
      if (r.length === 0) console.log('nothing to stop');
      for (const p of r) console.log(`${p.role} (pid ${p.pid}) ${p.result}`);
      return 0;
    }
    case 'wipe': {
      for (const d of await wipeBroker()) console.log(`removed ${d}`);
      return 0;
    }
    case 'status': {
      const s = await brokerStatus();
      console.log(JSON.stringify(s, null, 2));
      return s.proxy.grpcReady ? 0 : 3;
    }
    case 'dlq': {
      const [sub, ...args] = rest;
      const { values, positionals } = parseArgs({
        args, allowPositionals: true,
        options: {
          limit: { type: 'string' }, json: { type: 'boolean' }, id: { type: 'string', multiple: true }, all: { type: 'boolean' },
          topic: { type: 'string' }, wait: { type: 'string' },
        },
      });
      const group = positionals[0];
      if (!group) throw new Error('missing <group>');
      if (sub === 'list') {
        const items = await dlqList(group, { limit: values.limit ? Number(values.limit) : 50 });
        console.log(values.json ? JSON.stringify(items, null, 2) : formatDlqList(group, items));
        return 0;
      }
      if (sub === 'replay') {
        if (!values.all && !values.id?.length) throw new Error('dlq replay needs --id <messageId> (repeatable) or --all');
        const r = await dlqReplay(group, {
          ids: values.all ? undefined : values.id, topic: values.topic,
          waitSeconds: values.wait ? Number(values.wait) : undefined, log,
        });
        for (const x of r.replayed) console.log(`replayed ${x.messageId} -> ${x.topic} as ${x.newMessageId}`);
        for (const x of r.failed) console.log(`failed ${x.messageId}: ${x.error}`);
        for (const x of r.missing) console.log(`not found in %DLQ%${group} (already replayed?): ${x}`);
        return r.failed.length > 0 ? 1 : r.missing.length > 0 ? 2 : 0;
      }
      throw new Error(`unknown dlq subcommand ${sub ?? ''}`);
    }
    case 'smoke': {
      const { smoke } = await import('./smoke.ts');
      await smoke({ dlq: rest.includes('--dlq') });
      return 0;
    }
    case 'mqadmin':
      return mqadmin(rest);
    case 'jars':
      console.log(resolveJars(resolveConfig(), log));
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      console.error(`unknown command ${cmd}\n${USAGE}`);
      return 1;
  }
}

// Exit explicitly: gRPC channels of rocketmq-client-nodejs keep the event loop alive after errors.
main(process.argv.slice(2)).then((code) => {
  process.exit(code);
}, (err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
