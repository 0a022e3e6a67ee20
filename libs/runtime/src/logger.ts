import { pino, type Logger } from 'pino';

/** Structured JSON logs; secrets never reach them (authorization headers and keys are redacted). */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', '*.apiKey', '*.secret', 'apiKey', 'secret'], censor: '[redacted]' },
  });
}
