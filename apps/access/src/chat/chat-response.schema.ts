import { sourceSchema, tokenLogprobSchema } from '@aip/tasks';
import { z } from 'zod';

/** OpenAI's token counts of an answer. */
export const chatUsageSchema = z
  .object({
    prompt_tokens: z.number().int().nonnegative(),
    completion_tokens: z.number().int().nonnegative(),
    total_tokens: z.number().int().nonnegative(),
    /** When the provider says: prompt tokens served from its cache. */
    prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative() }).optional(),
    /** When the provider says: completion tokens spent reasoning. */
    completion_tokens_details: z.object({ reasoning_tokens: z.number().int().nonnegative() }).optional(),
  })
  .meta({ id: 'ChatUsage' });

const finishReason = z.enum(['stop', 'length', 'content_filter', 'tool_calls']);
/** Extension field: the passages the answer cites. */
const sources = z.array(sourceSchema).meta({ description: 'Extension: the knowledge-base passages the answer is grounded on.' });

const assistantMessage = z.object({
  role: z.literal('assistant'),
  /** null when the answer only calls tools (OpenAI's shape). */
  content: z.string().nullable(),
  tool_calls: z.array(z.object({ id: z.string(), type: z.literal('function'), function: z.object({ name: z.string(), arguments: z.string() }) })).optional(),
  /** The model's refusal to answer (structured outputs), else null. */
  refusal: z.string().nullable(),
});
export type AssistantMessage = z.infer<typeof assistantMessage>;

/** The tokens' log probabilities (`logprobs: true`); null when not asked for. */
const choiceLogprobs = z.object({ content: z.array(tokenLogprobSchema).nullable(), refusal: z.null() }).nullable();
export type ChoiceLogprobs = z.infer<typeof choiceLogprobs>;

/** `POST /v1/chat/completions` without `stream`: OpenAI's chat completion. */
export const chatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(z.object({ index: z.number().int(), message: assistantMessage, finish_reason: finishReason, logprobs: choiceLogprobs })),
    usage: chatUsageSchema,
    /** The provider's backend configuration, when it states one. */
    system_fingerprint: z.string().optional(),
    sources: sources.optional(),
  })
  .meta({ id: 'ChatCompletion' });
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

/** One `data:` event of a streamed answer (`stream: true`), OpenAI's chunk; the stream ends with `data: [DONE]`. */
export const chatCompletionChunkSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({
          role: z.literal('assistant').optional(),
          content: z.string().optional(),
          refusal: z.string().optional(),
          tool_calls: z.array(z.object({ index: z.number().int(), id: z.string().optional(), type: z.literal('function').optional(), function: z.object({ name: z.string().optional(), arguments: z.string() }) })).optional(),
        }),
        finish_reason: finishReason.nullable(),
        logprobs: choiceLogprobs,
      }),
    ),
    usage: chatUsageSchema.optional(),
    /** On the last chunks (the provider's, known once it answered). */
    system_fingerprint: z.string().optional(),
    sources: sources.optional(),
  })
  .meta({ id: 'ChatCompletionChunk' });

/** `GET /v1/models`: the chat models served and the embedding model, as far as the key may use them. */
export const modelListSchema = z
  .object({ object: z.literal('list'), data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })) })
  .meta({ id: 'ModelList' });
export type ModelList = z.infer<typeof modelListSchema>;
