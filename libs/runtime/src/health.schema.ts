import { z } from 'zod';

/** `GET /health/live`: the process answers. */
export const livenessSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Liveness' });

const indicators = z.record(z.string(), z.looseObject({ status: z.string() }));

/** `GET /health/ready` when the broker and Redis answer (Terminus' shape); otherwise a 503 in the error shape. */
export const readinessSchema = z
  .object({ status: z.enum(['ok', 'error', 'shutting_down']), info: indicators.optional(), error: indicators.optional(), details: indicators })
  .meta({ id: 'Readiness' });
