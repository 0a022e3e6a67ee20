import { z } from 'zod';
import { schemas } from '@aip/contracts';

export const taskStatus = z.enum(['queued', 'running', 'completed', 'failed', 'rejected', 'cancelled']);
export type TaskStatus = z.infer<typeof taskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'rejected', 'cancelled'];

export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative().optional(),
  reasoningTokens: z.number().int().nonnegative().optional(),
});

/** A passage an answer was grounded on: enough to cite it and to open the document. */
export const sourceSchema = z.object({
  kbId: z.string().optional(),
  docId: z.string(),
  version: z.string().optional(),
  position: z.number().int().optional(),
  title: z.string().optional(),
  score: z.number().optional(),
});

const alternative = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()).nullable() });
/** A token's log probability in OpenAI's shape (`logprobs.content[]`), carried as the provider sent it. */
export const tokenLogprobSchema = alternative.extend({ top_logprobs: z.array(alternative) });

/** What travels on `task:{id}:events`: deltas, markers and exactly one terminal event per run. */
export const taskEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('status'),
    status: taskStatus,
    /** On `running`: the key's limits as they stood when the request was admitted (x-ratelimit-* headers). */
    limits: schemas.limitsStanding.optional(),
  }),
  /** `logprobs`: the tokens of `text`, when the request asked for them. */
  z.object({ type: z.literal('delta'), text: z.string(), logprobs: z.array(tokenLogprobSchema).optional() }),
  /** A fragment of a tool call, as OpenAI streams them: the first of an index has its id and name. */
  z.object({ type: z.literal('tool_call'), index: z.number().int().nonnegative(), id: z.string().optional(), name: z.string().optional(), arguments: z.string() }),
  /** A worker died mid-generation and another one starts over: discard the text received so far. */
  z.object({ type: z.literal('restart'), attempt: z.number().int().positive() }),
  z.object({
    type: z.literal('done'),
    usage: usageSchema,
    finishReason: z.enum(['stop', 'length', 'content_filter', 'tool_calls']),
    model: z.string(),
    sources: z.array(sourceSchema).optional(),
    /** The provider's `system_fingerprint`, when it sent one. */
    systemFingerprint: z.string().max(256).optional(),
    /** The model's refusal (structured outputs): OpenAI's `message.refusal`. */
    refusal: z.string().max(100_000).optional(),
  }),
  z.object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    status: z.number().int().optional(),
    retryAfterMs: z.number().int().optional(),
    limit: z.number().optional(),
    remaining: z.number().optional(),
  }),
]);
export type TaskEvent = z.infer<typeof taskEventSchema>;

/** The task record (`task:{id}` hash), as the API returns it. */
export interface Task {
  id: string;
  tenantId: string;
  keyId: string;
  model: string;
  status: TaskStatus;
  stream: boolean;
  sessionId?: string;
  createdAt: number;
  startedAt?: number;
  firstTokenAt?: number;
  finishedAt?: number;
  attempt?: number;
  result?: string;
  /** The calls the model asked for, when it answered with tool calls. */
  toolCalls?: { id: string; name: string; arguments: string }[];
  usage?: z.infer<typeof usageSchema>;
  finishReason?: string;
  sources?: z.infer<typeof sourceSchema>[];
  error?: { code: string; message: string };
  workerId?: string;
  providerModel?: string;
}
