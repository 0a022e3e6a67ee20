import { createLogger, createRedis, startPlatformApp } from '@aip/runtime';
import { appOptions } from './app.options.ts';
import { loadRtcEnv } from './rtc.config.ts';

const env = loadRtcEnv();
const logger = createLogger('rtc-push', env.LOG_LEVEL);
const running = await startPlatformApp(appOptions(env, { redis: createRedis(env.REDIS_URL, logger), logger }));
logger.info({ port: running.port, instance: env.RTC_INSTANCE_ID }, 'rtc-push ready');
