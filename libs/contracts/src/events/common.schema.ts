import { z } from 'zod';

export const id = z.string().min(1).max(128);

/** A function call an assistant turn made (OpenAI's `tool_calls[]`); `arguments` is the model's JSON text. */
export const toolCall = z.object({
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(64),
  arguments: z.string().max(1_000_000),
});

export const chatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().max(1_000_000),
  name: z.string().max(64).optional(),
  /** An assistant turn that called tools. */
  toolCalls: z.array(toolCall).min(1).max(128).optional(),
  /** A `tool` turn: the id of the call it answers. */
  toolCallId: z.string().min(1).max(256).optional(),
});

export const usage = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});

export const errorInfo = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(2_000),
});
