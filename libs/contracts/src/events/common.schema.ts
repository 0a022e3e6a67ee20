import { z } from 'zod';

export const id = z.string().min(1).max(128);

/** A function call an assistant turn made (OpenAI's `tool_calls[]`); `arguments` is the model's JSON text. */
export const toolCall = z.object({
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(64),
  arguments: z.string().max(1_000_000),
});

/**
 * Where a stored image is (the claim check of ADR 0028): the object-store key, under the folder of
 * the request's tenant and task. Readable only for that tenant, until the task expires.
 */
export const imageRef = z.object({
  key: z.string().regex(/^[0-9a-f]{32}\/[A-Za-z0-9._-]{1,128}\/\d{1,3}$/, 'a claim-check key: <tenant folder>/<task id>/<n>'),
  mediaType: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
  bytes: z.number().int().positive(),
});

/**
 * One part of a message with more than text, in OpenAI's order: text, an image by `https` URL, or
 * an image the edge stored (`ref`) so its bytes never travel through the broker.
 */
export const contentPart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().max(1_000_000) }),
  z.object({
    type: z.literal('image'),
    /** Exactly one of `url` (https) and `ref` (stored). */
    url: z.url({ protocol: /^https$/ }).max(8_192).optional(),
    ref: imageRef.optional(),
    /** OpenAI's `detail`; absent = the provider's default. */
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }).refine((part) => (part.url === undefined) !== (part.ref === undefined), 'an image part has exactly one of url and ref'),
]);

export const chatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  /** The message's text (its text parts joined): what moderation, token estimates and history read. */
  content: z.string().max(1_000_000),
  /**
   * Present only when the message has more than text (images): all of its parts, in order. A
   * consumer that reads only `content` sees the text and misses the images.
   */
  parts: z.array(contentPart).min(1).max(64).optional(),
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
  /** Of promptTokens: served from the provider's cache, when it says (billed lower). */
  cachedTokens: z.number().int().nonnegative().optional(),
  /** Of completionTokens: spent reasoning, when the provider says. */
  reasoningTokens: z.number().int().nonnegative().optional(),
});

export const errorInfo = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(2_000),
});

export type ImageRef = z.infer<typeof imageRef>;
export type ContentPart = z.infer<typeof contentPart>;
export type ChatMessage = z.infer<typeof chatMessage>;
export type ToolCall = z.infer<typeof toolCall>;
