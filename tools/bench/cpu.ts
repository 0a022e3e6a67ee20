// CPU time per process over a benchmark phase, read from /proc (Linux): where a request's time goes
// on this machine, per service, and what that means for the rate it can carry. The figures are the
// processes' user + system time, so they count work, not waiting; their sum over a phase, divided
// by the phase's length, is how many cores the whole run kept busy.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';

export interface TrackedProcess {
  name: string;
  pid: number;
}

/** Clock ticks per second of /proc's times (USER_HZ). */
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU of `pid` in ms; NaN once it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) — utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / TICKS;
  } catch {
    return NaN;
  }
}

function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * The processes a benchmark shares the machine with: the local RocketMQ (name server; broker and
 * proxy, one JVM in local mode) and every redis-server, found by their command lines.
 */
export function machineProcesses(): TrackedProcess[] {
  const found: TrackedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const line = commandLine(entry);
    const name = /NamesrvStartup/.test(line) ? 'rocketmq name server' : /ProxyStartup|BrokerStartup/.test(line) ? 'rocketmq broker + proxy' : /^redis-server /.test(line) ? 'redis' : undefined;
    if (name) found.push({ name, pid: Number(entry) });
  }
  return found;
}

export interface CpuShare {
  name: string;
  /** CPU spent over the phase, ms. */
  ms: number;
}

/** Starts counting now; `stop()` returns each process's CPU over the phase, this one's under `selfName`. */
export function meterCpu(processes: readonly TrackedProcess[], selfName = 'benchmark client'): { stop(): CpuShare[] } {
  const before = processes.map((p) => cpuMs(p.pid));
  const self = process.cpuUsage();
  return {
    stop() {
      const shares = new Map<string, number>();
      processes.forEach((p, i) => {
        const spent = cpuMs(p.pid) - before[i]!;
        if (Number.isFinite(spent)) shares.set(p.name, (shares.get(p.name) ?? 0) + spent);
      });
      const own = process.cpuUsage(self);
      shares.set(selfName, (own.user + own.system) / 1_000);
      return [...shares].map(([name, ms]) => ({ name, ms }));
    },
  };
}

/**
 * A table of CPU ms per unit of work (request, push) per process, the cores the phase kept busy,
 * and the ceiling that follows: the rate at which the measured CPU per unit fills every core.
 */
export function cpuTable(shares: readonly CpuShare[], units: number, seconds: number, unit = 'request', plural = `${unit}s`): string {
  const total = shares.reduce((sum, s) => sum + s.ms, 0);
  const cores = cpus().length;
  const rows = [...shares].sort((a, b) => b.ms - a.ms).map((s) => `| ${s.name} | ${(s.ms / units).toFixed(2)} ms | ${(s.ms / (seconds * 1_000)).toFixed(2)} |`);
  const ceiling = (cores * 1_000) / (total / units);
  return [
    `| process | CPU per ${unit} | cores busy |`,
    '|---|---|---|',
    ...rows,
    `| **all** | **${(total / units).toFixed(2)} ms** | **${(total / (seconds * 1_000)).toFixed(2)} of ${cores}** |`,
    '',
    `CPU ceiling: ${cores} cores / ${(total / units).toFixed(2)} ms per ${unit} = ${ceiling.toFixed(0)} ${plural}/s with every core busy.`,
  ].join('\n');
}
