import { sourceSchema, taskStatus } from '@aip/tasks';
import { z } from 'zod';
import { chatUsageSchema } from '../chat/chat-response.schema.ts';

/** A task as the task API shows it (`GET /v1/tasks/{id}`): the record without internal routing facts. */
export const taskViewSchema = z
  .object({
    id: z.string(),
    object: z.literal('task'),
    model: z.string(),
    status: taskStatus,
    stream: z.boolean(),
    sessionId: z.string().optional(),
    createdAt: z.number().int().meta({ description: 'Milliseconds since the epoch.' }),
    startedAt: z.number().int().optional(),
    firstTokenAt: z.number().int().optional(),
    finishedAt: z.number().int().optional(),
    attempt: z.number().int().optional(),
    /** The answer's text (completed tasks). */
    result: z.string().optional(),
    toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional(),
    /** OpenAI's spelling, as on chat completions. */
    usage: chatUsageSchema.optional(),
    finishReason: z.string().optional(),
    sources: z.array(sourceSchema).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    providerModel: z.string().optional(),
    links: z.object({ self: z.string(), events: z.string() }),
  })
  .meta({ id: 'Task' });
export type TaskView = z.infer<typeof taskViewSchema>;
