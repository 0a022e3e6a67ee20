import { z } from 'zod';
import { namespaceProblem } from '@aip/contracts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Topic and group settings that no longer exist (ADR 0021): names come from libs/contracts, and a
 * broker namespace (ROCKETMQ_NAMESPACE) replaces them. An app refuses to start with one set, rather
 * than quietly consume the contracts' topics where its operator meant others.
 */
const REMOVED_VARIABLES = [
  'PUSH_TOPIC', 'PUSH_GROUP',
  'KB_CHANGE_TOPIC', 'KB_LIFECYCLE_TOPIC', 'KB_CONSUMER_GROUP',
  'INTENT_CONSUMER_GROUP', 'INTENT_LIFECYCLE_TOPIC', 'INTENT_REQUEST_TOPIC', 'INTENT_KB_TOPIC', 'INTENT_PUSH_TOPIC',
] as const;

/**
 * Validates the whole environment once at start-up. A bad value fails fast with a message that
 * names the variable and what it accepts; defaults run the embedded stack.
 */
export function loadEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const removed = REMOVED_VARIABLES.filter((name) => env[name] !== undefined);
  if (removed.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${removed.join(', ')}: no longer exist; topics and groups are those of libs/contracts, and ROCKETMQ_NAMESPACE gives a platform (or a test run) its own (docs/adr/0021-broker-namespaces.md)`);
  }
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** Environment variables every app reads. */
export const baseEnvSchema = z.object({
  ROCKETMQ_ENDPOINTS: z.string().regex(/^[^:\s]+:\d+$/, 'host:port of the RocketMQ proxy (gRPC)').default('127.0.0.1:8081'),
  ROCKETMQ_ACCESS_KEY: z.string().optional(),
  ROCKETMQ_SECRET_KEY: z.string().optional(),
  /**
   * Broker namespace: every topic and consumer group this app uses is `<namespace>_<name>` (ADR 0021),
   * so several platforms — test runs, tenants of a shared broker — share one broker without seeing
   * each other's messages. Empty (default): the names of libs/contracts as they are. Every app of one
   * platform, and its topology (`brokerTopology(namespace)`), must use the same value.
   */
  ROCKETMQ_NAMESPACE: z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      const problem = namespaceProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** TLS to the proxy's gRPC port (system CAs). */
  ROCKETMQ_TLS: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().default('aip:'),
  /**
   * How many days a conversation (its items, its stored responses) is kept after its last change
   * (ADR 0029): one number for every tenant, then `tenant=days` exceptions, comma-separated
   * (`30,acme=7,bank=365`). Every app that writes conversations reads it; the same value everywhere.
   */
  CONVERSATION_RETENTION_DAYS: z
    .string()
    .default('30')
    .transform((value, ctx) => {
      const [all, ...exceptions] = value.split(',').map((part) => part.trim());
      const days = (text: string | undefined) => (text !== undefined && /^\d{1,5}$/.test(text) && Number(text) > 0 ? Number(text) : undefined);
      const byTenant = new Map<string, number>();
      for (const exception of exceptions) {
        const [tenant, count] = exception.split('=');
        const tenantDays = days(count);
        if (!tenant || tenantDays === undefined) ctx.addIssue({ code: 'custom', message: `"${exception}": tenant=days (a whole number of days, at least 1)` });
        else byTenant.set(tenant, tenantDays);
      }
      if (days(all) === undefined) ctx.addIssue({ code: 'custom', message: `"${all}": the days for every tenant first (a whole number, at least 1)` });
      return (tenantId: string) => (byTenant.get(tenantId) ?? days(all) ?? 30) * 86_400_000;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INSTANCE_ID: z.string().optional(),
  /**
   * The operators' port: the admin API and `/metrics` are served there and nowhere else (404 on the
   * public port). Unset, they share the public port (a developer's machine); every deployment sets it.
   */
  ADMIN_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  /**
   * Seals provider secrets of the routing document at rest (AES-256-GCM; at least 32 characters, e.g.
   * `openssl rand -hex 32`): access seals what it stores, inference opens what it reads. Keep it out of
   * Redis; the same value on every access and inference instance.
   */
  CONFIG_ENCRYPTION_KEY: z.string().min(32, 'at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  /** Requests per second from one client address before anything else runs (0 = off); HTTP only. */
  IP_RATE_LIMIT: z.coerce.number().int().min(0).default(200),
  /**
   * Which proxies' X-Forwarded-For to believe when deciding a client's address (per-IP limits,
   * logs): `false` (default: the socket's peer, a client cannot spoof it), a number of trusted hops,
   * or a comma-separated list of proxy addresses/CIDRs (e.g. the ingress's pod network). `true`
   * trusts any header, which lets a client choose its own address: only behind a proxy that
   * overwrites the header.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value): boolean | string | ((address: string, hop: number) => boolean) => {
      const trimmed = value.trim();
      if (trimmed === 'false' || trimmed === '') return false;
      if (trimmed === 'true') return true;
      if (!/^\d+$/.test(trimmed)) return trimmed;
      const hops = Number(trimmed);
      return (_address, hop) => hop < hops;
    }),
});
export type BaseEnv = z.infer<typeof baseEnvSchema>;

/** How the app's transport reaches the broker, and in which namespace (`RocketMQConnectionOptions`). */
export function connectionOf(env: BaseEnv) {
  return {
    endpoints: env.ROCKETMQ_ENDPOINTS,
    ...(env.ROCKETMQ_NAMESPACE ? { namespace: env.ROCKETMQ_NAMESPACE } : {}),
    ...(env.ROCKETMQ_TLS ? { sslEnabled: true } : {}),
    ...(env.ROCKETMQ_ACCESS_KEY && env.ROCKETMQ_SECRET_KEY ? { credentials: { accessKey: env.ROCKETMQ_ACCESS_KEY, accessSecret: env.ROCKETMQ_SECRET_KEY } } : {}),
  };
}
