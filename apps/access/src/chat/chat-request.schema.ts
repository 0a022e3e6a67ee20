import { z } from 'zod';
import { idSchema } from '@aip/contracts';

/**
 * OpenAI's array form of content: text and image parts. Other types are refused before
 * (unhonoured-fields.ts), and so are image URLs the platform does not take (image-parts.ts).
 */
export const contentPartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().optional().transform((text) => text ?? '') }),
  z.object({ type: z.literal('image_url'), image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }) }),
]);
export type ContentPart = z.infer<typeof contentPartSchema>;

const content = z.union([z.string(), z.array(contentPartSchema)]);

const toolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a tool name is 1-64 letters, digits, "_" or "-"');
const jsonSchemaObject = z.record(z.string(), z.json());

const toolCall = z.object({
  id: z.string().min(1).max(256),
  type: z.literal('function'),
  function: z.object({ name: toolName, arguments: z.string().max(1_000_000) }),
});

const message = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']).transform((r) => (r === 'developer' ? 'system' : r)),
    content: content.nullable().optional().transform((c) => c ?? ''),
    name: z.string().max(64).optional(),
    tool_calls: z.array(toolCall).max(128).nullable().optional(),
    tool_call_id: z.string().min(1).max(256).nullable().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.role === 'tool' && !m.tool_call_id) ctx.addIssue({ code: 'custom', path: ['tool_call_id'], message: 'a tool message answers a call: tool_call_id is required' });
    if (m.tool_calls?.length && m.role !== 'assistant') ctx.addIssue({ code: 'custom', path: ['tool_calls'], message: 'only assistant messages carry tool_calls' });
  })
  // `content` is the text (what moderation and token estimates read); `parts` keeps every part, in
  // order, only when there is more than text.
  .transform(({ content: value, ...m }) => {
    if (typeof value === 'string') return { ...m, content: value };
    const text = value.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
    return { ...m, content: text, ...(value.some((part) => part.type !== 'text') ? { parts: value } : {}) };
  });

/**
 * OpenAI's fields carried to the model as they are (`forward` of the submitted request), each
 * checked for its shape here so a malformed one is a 400 now rather than a provider's error later.
 */
export const forwardedFields = {
  tools: z
    .array(z.object({ type: z.literal('function'), function: z.object({ name: toolName, description: z.string().max(8_192).optional(), parameters: jsonSchemaObject.optional(), strict: z.boolean().nullable().optional() }) }))
    .max(128),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: toolName }) })]),
  parallel_tool_calls: z.boolean(),
  response_format: z.discriminatedUnion('type', [
    z.object({ type: z.literal('text') }),
    z.object({ type: z.literal('json_object') }),
    z.object({ type: z.literal('json_schema'), json_schema: z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), description: z.string().max(8_192).optional(), schema: jsonSchemaObject.optional(), strict: z.boolean().nullable().optional() }) }),
  ]),
  stop: z.union([z.string().max(1_024), z.array(z.string().max(1_024)).max(4)]),
  top_p: z.number().min(0).max(1),
  seed: z.number().int(),
  presence_penalty: z.number().min(-2).max(2),
  frequency_penalty: z.number().min(-2).max(2),
  logit_bias: z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100)),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']),
  logprobs: z.boolean(),
  top_logprobs: z.number().int().min(0).max(20),
  // Hints for the provider (its own storage, tier and tags): forwarded, and ignorable by the rest.
  metadata: z.record(z.string().max(64), z.string().max(512)).refine((tags) => Object.keys(tags).length <= 16, 'at most 16 metadata pairs'),
  store: z.boolean(),
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']),
  prediction: z.object({ type: z.literal('content'), content: z.union([z.string().max(1_000_000), z.array(z.object({ type: z.literal('text'), text: z.string() })).max(1_024)]) }),
} as const;

/** Most answers one request may ask for (`n`): each is a generation of its own. */
export const MAX_CHOICES = 8;

export function chatRequestSchema(maxMessages: number) {
  return z.object({
    model: z.string().min(1).max(128),
    messages: z
      .array(message)
      .min(1, 'messages must not be empty')
      .max(maxMessages, `at most ${maxMessages} messages`),
    // Forwarded to the model as they are (null = absent, as OpenAI's SDKs send it).
    tools: forwardedFields.tools.nullable().optional(),
    tool_choice: forwardedFields.tool_choice.nullable().optional(),
    parallel_tool_calls: forwardedFields.parallel_tool_calls.nullable().optional(),
    response_format: forwardedFields.response_format.nullable().optional(),
    stop: forwardedFields.stop.nullable().optional(),
    top_p: forwardedFields.top_p.nullable().optional(),
    seed: forwardedFields.seed.nullable().optional(),
    presence_penalty: forwardedFields.presence_penalty.nullable().optional(),
    frequency_penalty: forwardedFields.frequency_penalty.nullable().optional(),
    logit_bias: forwardedFields.logit_bias.nullable().optional(),
    reasoning_effort: forwardedFields.reasoning_effort.nullable().optional(),
    logprobs: forwardedFields.logprobs.nullable().optional(),
    top_logprobs: forwardedFields.top_logprobs.nullable().optional(),
    metadata: forwardedFields.metadata.nullable().optional(),
    store: forwardedFields.store.nullable().optional(),
    service_tier: forwardedFields.service_tier.nullable().optional(),
    prediction: forwardedFields.prediction.nullable().optional(),
    /** Answers to generate, each its own generation (ChatController); at most MAX_CHOICES. */
    n: z.number().int().min(1).max(MAX_CHOICES).nullable().optional(),
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
  }).superRefine((request, ctx) => {
    // A choice the provider would refuse anyway, said now and clearly.
    const choice = request.tool_choice;
    const names = new Set(request.tools?.map((tool) => tool.function.name) ?? []);
    if ((choice === 'required' || typeof choice === 'object') && names.size === 0) ctx.addIssue({ code: 'custom', path: ['tool_choice'], message: 'tool_choice asks for a tool call, but the request has no tools' });
    if (choice && typeof choice === 'object' && names.size > 0 && !names.has(choice.function.name)) ctx.addIssue({ code: 'custom', path: ['tool_choice'], message: `tool_choice names '${choice.function.name}', which is not in tools` });
    if (request.top_logprobs && request.logprobs !== true) ctx.addIssue({ code: 'custom', path: ['top_logprobs'], message: 'top_logprobs needs logprobs: true' });
  });
}

export type ChatRequest = z.infer<ReturnType<typeof chatRequestSchema>>;

/** Deepest nesting a request may have: JSON schemas of tools are deep, not this deep. */
export const MAX_NESTING = 64;

/**
 * Whether `value` nests objects and arrays deeper than `max` (iterative: a hostile body of
 * 100,000 levels must not overflow the stack here, nor later in validation or serialisation).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [current, depth] = next;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
