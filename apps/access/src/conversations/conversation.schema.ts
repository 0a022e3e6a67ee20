import type { Conversation, ConversationItem, ItemContent, NewConversationItem } from '@aip/tasks';
import { z } from 'zod';
import { inputItemSchema, type InputItem } from '../responses/response-request.schema.ts';

// OpenAI's Conversations API (`/v1/conversations`, `/v1/conversations/{id}/items`) as the platform
// carries it out, plus a list of the caller's conversations (OpenAI has none; a chat page needs it).

const metadata = z.record(z.string().max(64), z.string().max(512)).refine((value) => Object.keys(value).length <= 16, 'at most 16 metadata keys');

/** At most 20 items per request, as OpenAI. */
const items = z.array(inputItemSchema).max(20);

export const conversationCreateSchema = z.strictObject({ items: items.nullable().optional(), metadata: metadata.nullable().optional() }).meta({ id: 'ConversationCreateRequest' });
export const conversationUpdateSchema = z.strictObject({ metadata }).meta({ id: 'ConversationUpdateRequest' });
export const itemsCreateSchema = z.strictObject({ items: items.min(1) }).meta({ id: 'ConversationItemsCreateRequest' });

const limit = z.coerce.number().int().min(1).max(100).default(20);
export const itemsQuerySchema = z.strictObject({ limit, after: z.string().min(1).max(256).optional(), order: z.enum(['asc', 'desc']).default('desc'), include: z.never({ error: 'include is not supported: leave it out' }).optional() });
export const conversationsQuerySchema = z.strictObject({ limit, after: z.string().min(1).max(256).optional() });

/** A conversation as the API shows it: OpenAI's fields, then the platform's (title, last change, item count). */
export const conversationObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('conversation'),
    created_at: z.number().int(),
    metadata: z.record(z.string(), z.string()),
    title: z.string().nullable().meta({ description: 'The first words of its first user message.' }),
    updated_at: z.number().int(),
    item_count: z.number().int().meta({ description: 'Items kept; the oldest are removed beyond the bound (`trimmed_items` counts them).' }),
    trimmed_items: z.number().int(),
  })
  .meta({ id: 'Conversation' });

export const conversationItemSchema = z.record(z.string(), z.unknown()).meta({ id: 'ConversationItem', description: "An item in OpenAI's shape: a message, a function call or a function call's output, with its id." });
export const itemListSchema = z.object({ object: z.literal('list'), data: z.array(conversationItemSchema), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() }).meta({ id: 'ConversationItemList' });
export const conversationListSchema = z.object({ object: z.literal('list'), data: z.array(conversationObjectSchema), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() }).meta({ id: 'ConversationList' });

export function conversationObject(conversation: Conversation): z.infer<typeof conversationObjectSchema> {
  return {
    id: conversation.id,
    object: 'conversation',
    created_at: Math.floor(conversation.createdAt / 1_000),
    metadata: conversation.metadata,
    title: conversation.title,
    updated_at: Math.floor(conversation.updatedAt / 1_000),
    item_count: conversation.itemCount,
    trimmed_items: conversation.trimmed,
  };
}

export function listOf<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}

/** Why an item cannot be kept in a conversation (400), if it cannot. */
export function itemProblem(item: InputItem): string | undefined {
  if (item.type === 'function_call' || item.type === 'function_call_output' || typeof item.content === 'string') return undefined;
  const inline = item.content.find((part) => part.type === 'input_image' && !part.image_url.startsWith('https://'));
  return inline ? 'a conversation keeps images by https URL only (an inline image lives only as long as the request that sent it)' : undefined;
}

/** An input item as a conversation keeps it: text as parts (input_text, or output_text for an assistant). */
export function conversationItemOf(item: InputItem): NewConversationItem {
  if (item.type === 'function_call') return { type: 'function_call', call_id: item.call_id, name: item.name, arguments: item.arguments };
  if (item.type === 'function_call_output') return { type: 'function_call_output', call_id: item.call_id, output: item.output };
  const text = (value: string): ItemContent => (item.role === 'assistant' ? { type: 'output_text', text: value, annotations: [] } : { type: 'input_text', text: value });
  const content: ItemContent[] =
    typeof item.content === 'string'
      ? [text(item.content)]
      : item.content.map((part) => (part.type === 'input_image' ? { type: 'input_image', image_url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } : text(part.text)));
  return { type: 'message', role: item.role, content };
}

export type { ConversationItem };
