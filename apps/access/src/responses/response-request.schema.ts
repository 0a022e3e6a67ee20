import { z } from 'zod';
import { idSchema } from '@aip/contracts';

// OpenAI's Responses API request (`POST /v1/responses`), the part the platform carries out. Strict:
// a field it does not know or does not carry out yet is a 400 naming it, never dropped.

const inputText = z.strictObject({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.strictObject({ type: z.literal('input_image'), image_url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() });
/** An earlier answer's text, as clients send a conversation back. */
const outputText = z.strictObject({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()).optional() });

const messageItem = z.strictObject({
  type: z.literal('message').optional(),
  id: z.string().max(256).optional(),
  status: z.string().max(32).optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [inputText, inputImage, outputText])).max(256)]),
});

const functionCallItem = z.strictObject({
  type: z.literal('function_call'),
  id: z.string().max(256).optional(),
  status: z.string().max(32).optional(),
  call_id: z.string().min(1).max(256),
  name: z.string().min(1).max(64),
  arguments: z.string().max(1_000_000),
});

const functionCallOutputItem = z.strictObject({
  type: z.literal('function_call_output'),
  id: z.string().max(256).optional(),
  status: z.string().max(32).optional(),
  call_id: z.string().min(1).max(256),
  output: z.string().max(1_000_000),
});

export const inputItemSchema = z.union([messageItem, functionCallItem, functionCallOutputItem]);
export type InputItem = z.infer<typeof inputItemSchema>;

const functionTool = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1).max(64),
  description: z.string().max(8_192).nullable().optional(),
  parameters: z.record(z.string(), z.json()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const textFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({ type: z.literal('json_schema'), name: z.string().min(1).max(64), schema: z.record(z.string(), z.json()), description: z.string().max(8_192).optional(), strict: z.boolean().nullable().optional() }),
]);

export const responseRequestSchema = z.strictObject({
  model: z.string().min(1).max(128),
  input: z.union([z.string().min(1), z.array(inputItemSchema).min(1).max(256)]),
  instructions: z.string().max(1_000_000).nullable().optional(),
  /** Continue from a stored response: its input and output come before this input. */
  previous_response_id: z.string().min(1).max(256).nullable().optional(),
  /** The conversation this response belongs to: its items come before this input, and this input and the answer are added to it. */
  conversation: z.union([z.string().min(1).max(256), z.strictObject({ id: z.string().min(1).max(256) })]).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  /** Keep the response for GET, chaining and input_items (default true, as OpenAI). */
  store: z.boolean().nullable().optional(),
  tools: z.array(functionTool).max(128).optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.strictObject({ type: z.literal('function'), name: z.string().min(1).max(64) })]).optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z.strictObject({ format: textFormat.optional() }).optional(),
  max_output_tokens: z.number().int().positive().max(1_000_000).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  /** The end user (OpenAI's deprecated `user`, or `safety_identifier`): the same id rule as chat's `user`. */
  user: idSchema.optional(),
  safety_identifier: idSchema.optional(),
  reasoning: z.strictObject({ effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullable().optional() }).nullable().optional(),
  /** `disabled` (OpenAI's default) is what the platform does: a context over the model's window is an error. */
  truncation: z.literal('disabled').nullable().optional(),
  /** Answer at once (status `queued`) and run on: poll GET /v1/responses/{id}, cancel with POST …/cancel. */
  background: z.boolean().nullable().optional(),
  // Accepted only with the value that changes nothing (not carried out yet).
  include: z.array(z.never({ error: 'include is not supported yet: leave it out' })).max(0).nullable().optional(),
});
export type ResponseRequest = z.infer<typeof responseRequestSchema>;

/** `GET /v1/responses/{id}`: as JSON, or (`stream=true`) its events again, after `starting_after`. */
export const retrieveQuerySchema = z.strictObject({
  stream: z.enum(['true', 'false']).optional(),
  starting_after: z.coerce.number().int().min(-1).optional(),
  include: z.never({ error: 'include is not supported yet: leave it out' }).optional(),
});

/** A request `responseRequestSchema` took that the platform still cannot honour: its 400 (param, message). */
export function unsupportedCombination(request: ResponseRequest): { param: string; message: string } | undefined {
  if (request.conversation && request.previous_response_id) return { param: 'previous_response_id', message: 'a response continues either a conversation or a previous response: send conversation or previous_response_id, not both' };
  if (request.background && request.store === false) return { param: 'store', message: 'a background response is polled with GET /v1/responses/{id}: it must be stored (leave store out)' };
  return undefined;
}

/** The response object (`POST /v1/responses`, `GET /v1/responses/{id}`), OpenAI's shape. */
export const responseObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('response'),
    created_at: z.number().int(),
    status: z.enum(['completed', 'incomplete', 'in_progress', 'queued', 'failed', 'cancelled']),
    model: z.string(),
    output: z.array(
      z.union([
        z.object({ type: z.literal('message'), id: z.string(), status: z.string(), role: z.literal('assistant'), content: z.array(z.object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()) })) }),
        z.object({ type: z.literal('function_call'), id: z.string(), call_id: z.string(), name: z.string(), arguments: z.string(), status: z.string() }),
      ]),
    ),
    instructions: z.string().nullable(),
    previous_response_id: z.string().nullable(),
    /** The conversation it belongs to, if any. */
    conversation: z.object({ id: z.string() }).nullable(),
    metadata: z.record(z.string(), z.string()),
    /** Made with `background: true`. */
    background: z.boolean().optional(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    incomplete_details: z.object({ reason: z.string() }).nullable(),
    usage: z
      .object({ input_tokens: z.number().int(), input_tokens_details: z.object({ cached_tokens: z.number().int() }), output_tokens: z.number().int(), output_tokens_details: z.object({ reasoning_tokens: z.number().int() }), total_tokens: z.number().int() })
      .nullable(),
  })
  .meta({ id: 'Response' });

/** One `data:` event of a streamed response: `type` and `sequence_number`, then the event's fields. */
export const responseStreamEventSchema = z
  .object({ type: z.string().meta({ description: 'response.created, response.in_progress, response.output_item.added, response.content_part.added, response.output_text.delta, response.function_call_arguments.delta, … , response.completed, response.incomplete or response.failed' }), sequence_number: z.number().int().nonnegative() })
  .catchall(z.unknown())
  .meta({ id: 'ResponseStreamEvent' });
