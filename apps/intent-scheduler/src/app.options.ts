import { CONSUMER_GROUPS } from '@aip/contracts';
import type { PlatformAppOptions } from '@aip/runtime';
import { AppModule, type IntentSchedulerDeps } from './app.module.ts';
import type { IntentSchedulerEnv } from './intent-scheduler.config.ts';

/** How the intent scheduler runs (main.ts, and the tests that start several replicas in one process). */
export function appOptions(env: IntentSchedulerEnv, deps: IntentSchedulerDeps, onClose?: () => Promise<void>): PlatformAppOptions {
  return {
    module: AppModule.register(env, deps),
    env,
    redis: deps.redis,
    logger: deps.logger,
    // A redelivered indexed event must not notify twice (the dedupe keys guard too).
    consumers: { group: CONSUMER_GROUPS.intentScheduler.name },
    ...(onClose ? { onClose } : {}),
  };
}
