import type { Logger } from 'pino';

/**
 * Routes the RocketMQ client's own logging into our structured logger instead of its default
 * file under ~/logs. Its info lines are chatty (every heartbeat), so they go to debug.
 */
export function clientLogger(logger: Logger) {
  const child = logger.child({ component: 'rocketmq-client' });
  return {
    info: (...args: unknown[]) => child.debug(...(args as [string])),
    debug: (...args: unknown[]) => child.trace(...(args as [string])),
    warn: (...args: unknown[]) => child.warn(...(args as [string])),
    error: (...args: unknown[]) => child.error(...(args as [string])),
  };
}
