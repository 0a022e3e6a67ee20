import { idSchema } from '@aip/contracts';
import { z } from 'zod';

/** `POST /v1/feedback`: a rating of one answer, by its task id or its response id. */
export const feedbackInputSchema = z
  .strictObject({
    task_id: idSchema.optional(),
    response_id: idSchema.optional(),
    /** -1 (bad) to 1 (good): thumbs down and up are -1 and 1. */
    score: z.number().min(-1).max(1),
    // NUL is no character a database text keeps (PostgreSQL refuses it): refused here, not a 503 there.
    comment: z.string().max(2_000).refine((text) => !text.includes('\u0000'), 'must not contain NUL characters').optional(),
  })
  .refine((input) => (input.task_id === undefined) !== (input.response_id === undefined), { message: 'name the answer by task_id or by response_id (one of them)', path: ['task_id'] })
  .meta({ id: 'FeedbackInput' });

export const feedbackViewSchema = z.object({ object: z.literal('feedback'), task_id: z.string(), score: z.number(), comment: z.string().nullable() }).strict().meta({ id: 'Feedback' });
