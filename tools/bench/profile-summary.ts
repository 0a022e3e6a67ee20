// Where a process's CPU went, by package: reads V8 CPU profiles (`node --cpu-prof`) and prints the
// self time of each package (node_modules/<name>), of the project's own code (apps/, libs/), of
// Node's own modules (http2 under gRPC, net, streams, fetch…), of native builtins and of GC, largest first. Used on the profiles the platform's apps write during
// a benchmark run (BENCH_CPU_PROFILE_DIR in overhead.bench.ts).
// Run: node tools/bench/profile-summary.ts <dir or .cpuprofile files…>
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The bucket a frame's self time counts under. */
export function bucketOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)' || functionName === '(program)') return functionName;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url === '') return 'native (JSON, RegExp, builtins)';
  if (url.includes('internal/deps/undici')) return 'node: fetch (undici)';
  const internal = /^node:(?:internal\/)?([a-z_0-9]+)/.exec(url);
  if (internal) return `node: ${internal[1]}`;
  return 'other';
}

/** Self time in ms per bucket of one profile. */
export function selfTimeByBucket(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const bucket = bucketOf(node.callFrame);
    totals.set(bucket, (totals.get(bucket) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1_000);
  });
  return totals;
}

function files(paths: string[]): string[] {
  return paths.flatMap((path) => (statSync(path).isDirectory() ? readdirSync(path).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(path, f)) : [path]));
}

if (import.meta.main) {
  const inputs = files(process.argv.slice(2));
  if (inputs.length === 0) {
    console.error('usage: node tools/bench/profile-summary.ts <dir or .cpuprofile files…>');
    process.exit(2);
  }
  for (const file of inputs) {
    const totals = selfTimeByBucket(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    totals.delete('(idle)');
    const busy = [...totals.values()].reduce((sum, ms) => sum + ms, 0);
    console.log(`\n${file}: ${(busy / 1_000).toFixed(1)} s on CPU`);
    console.log('| where | self time | share |\n|---|---|---|');
    for (const [bucket, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`| ${bucket} | ${(ms / 1_000).toFixed(2)} s | ${((ms / busy) * 100).toFixed(1)} % |`);
  }
}
