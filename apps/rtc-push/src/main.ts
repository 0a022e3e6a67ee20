import { createLogger } from '@aip/runtime';
import { loadRtcEnv } from './rtc.config.ts';
import { startRtcPush } from './rtc.app.ts';

const env = loadRtcEnv();
const logger = createLogger('rtc-push', env.LOG_LEVEL);
const running = await startRtcPush(env, logger);
running.app.enableShutdownHooks();
logger.info({ port: running.port, instance: env.RTC_INSTANCE_ID, topic: env.PUSH_TOPIC }, 'rtc-push ready');
