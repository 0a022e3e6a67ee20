import type { Logger } from 'pino';
import type { MessagingMetrics } from '../metrics/messaging.metrics.ts';

/** How to reach the RocketMQ proxy (gRPC). */
export interface RocketMQConnectionOptions {
  /** "host:port" of the proxy's gRPC endpoint. */
  endpoints: string;
  /**
   * Broker namespace (letters, digits, '-', '_'; at most MAX_NAMESPACE_LENGTH): every topic and
   * consumer group this connection uses is `namespaced(namespace, name)` of libs/contracts. Names
   * handed to the transport (contracts, handler extras, publish options) stay the contracts' names;
   * the transport prefixes them once, at the broker's edge. Not the RocketMQ client's own
   * `namespace`, which the open-source 5.x proxy ignores (ADR 0021). Unset or '': no prefix.
   */
  namespace?: string;
  sslEnabled?: boolean;
  credentials?: { accessKey: string; accessSecret: string; securityToken?: string };
  /** Per-RPC timeout. The client rejects values under 1000 ms. */
  requestTimeoutMs?: number;
}

export interface RetryBackoff {
  initialMs: number;
  multiplier: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: RetryBackoff = { initialMs: 1_000, multiplier: 5, maxMs: 300_000 };

/** Delay before attempt `attempt + 1`, given that delivery `attempt` (1-based) just failed. */
export function backoffDelay(backoff: RetryBackoff, attempt: number): number {
  return Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.multiplier ** Math.max(0, attempt - 1)));
}

/**
 * The longest a message can keep coming back: every attempt's lease plus every backoff between
 * attempts. After this the broker has either had it acked or dead-lettered it.
 */
export function redeliveryWindowMs(backoff: RetryBackoff, maxAttempts: number, leaseMs: number): number {
  let total = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) total += leaseMs + (attempt < maxAttempts ? backoffDelay(backoff, attempt) : 0);
  return total;
}

export interface MessagingRuntime {
  logger: Logger;
  metrics: MessagingMetrics;
}
