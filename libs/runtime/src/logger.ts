import { pino, type Logger } from 'pino';
import { traceIds } from './telemetry.ts';

/** Structured JSON logs; secrets never reach them (authorization headers and keys are redacted). */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    // Lines written inside a traced span carry its trace and span ids.
    mixin: traceIds,
    redact: { paths: ['req.headers.authorization', '*.apiKey', '*.secret', 'apiKey', 'secret'], censor: '[redacted]' },
  });
}
