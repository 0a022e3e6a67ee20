/**
 * Per-IP requests per second, in memory: the cheapest guard, in front of everything else (one
 * instance's view; the real limits are the limiter's, in Redis).
 */
export class IpLimiter {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly perSecond: number) {}

  allow(ip: string, nowMs = Date.now()): boolean {
    if (this.perSecond <= 0) return true;
    const window = Math.floor(nowMs / 1_000);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    const count = (this.counts.get(ip) ?? 0) + 1;
    this.counts.set(ip, count);
    return count <= this.perSecond;
  }
}
