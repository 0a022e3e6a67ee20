import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** Errors ioredis raises when Redis cannot be reached (as opposed to a command Redis refused). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.message === 'Connection is closed.' ||
    error.message.includes("enableOfflineQueue options is false")
  );
}

const OUTAGE_LOG_EVERY_MS = 10_000;

/**
 * Logs a Redis connection's outages (at most once per 10 s, with the reason) and its recovery,
 * instead of ioredis's "Unhandled error event" on stderr for every reconnect attempt.
 */
export function watchRedis(client: Redis, logger: Logger, name = 'redis'): Redis {
  let lastLogged = 0;
  let down = false;
  client.on('error', (error: Error) => {
    down = true;
    if (Date.now() - lastLogged < OUTAGE_LOG_EVERY_MS) return;
    lastLogged = Date.now();
    logger.warn({ connection: name, err: error.message }, 'Redis unreachable: retrying');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    lastLogged = 0;
    logger.info({ connection: name }, 'Redis reachable again');
  });
  return client;
}

/** An app's Redis connection: commands fail after `maxRetriesPerRequest` reconnects instead of hanging. */
export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): Redis {
  return watchRedis(new Redis(url, { maxRetriesPerRequest: 2, ...options }), logger);
}
