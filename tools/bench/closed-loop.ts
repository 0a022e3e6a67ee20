import { percentile } from './percentile.ts';

/** One contender's figures: throughput and latency percentiles of its operations. */
export interface Figure { name: string; opsPerSecond: number; p50Ms: number; p99Ms: number }

/** Runs `op` `ops` times with `concurrency` of them in flight (a closed loop); the latency of each op. */
export async function closedLoop(name: string, ops: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Figure> {
  const latencies = new Array<number>(ops);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ops) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latencies[i] = performance.now() - t0;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { name, opsPerSecond: ops / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
}
