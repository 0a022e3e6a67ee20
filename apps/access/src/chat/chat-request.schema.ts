import { z } from 'zod';
import { idSchema } from '@aip/contracts';

const content = z.union([
  z.string(),
  // OpenAI's array form; only text parts are used.
  z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()).transform((parts) => parts.map((p) => p.text ?? '').join('')),
]);

export function chatRequestSchema(maxMessages: number) {
  return z.object({
    model: z.string().min(1).max(128),
    messages: z
      .array(z.object({ role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']).transform((r) => (r === 'developer' ? 'system' : r)), content: content.nullable().transform((c) => c ?? ''), name: z.string().max(64).optional() }))
      .min(1, 'messages must not be empty')
      .max(maxMessages, `at most ${maxMessages} messages`),
    stream: z.boolean().optional().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
    max_tokens: z.number().int().positive().max(1_000_000).optional(),
    max_completion_tokens: z.number().int().positive().max(1_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    /** The end user (OpenAI's `user`): one id rule, as everywhere it travels (events, session owners, pushes). */
    user: idSchema.optional(),
    /** Extensions: conversation id (history), priority in the deadline queue, knowledge bases. */
    session_id: idSchema.optional(),
    priority: z.number().int().min(0).max(9).optional(),
    /** Extension: knowledge bases to answer from; absent = all of the tenant's, [] = none. */
    knowledge_bases: z.array(idSchema).max(16).optional(),
  });
}

export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>;
