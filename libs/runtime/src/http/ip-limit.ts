import type { FastifyInstance } from 'fastify';

/**
 * Per-IP requests per second, in memory: the cheapest guard, in front of everything else (one
 * instance's view; the real limits are the limiter's, in Redis, and the per-key caps).
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

/**
 * Answers a client over `perSecond` requests per second from one address (as `TRUST_PROXY`
 * decides it) with 429 `ip_rate_limited` in the platform's error shape, before any route runs.
 */
export function limitRequestsPerIp(fastify: FastifyInstance, perSecond: number): void {
  const limiter = new IpLimiter(perSecond);
  fastify.addHook('onRequest', async (request, reply) => {
    if (!limiter.allow(request.ip)) {
      return reply.status(429).header('retry-after', '1').send({ error: { message: 'Too many requests from this address.', type: 'rate_limit_error', param: null, code: 'ip_rate_limited' } });
    }
  });
}
