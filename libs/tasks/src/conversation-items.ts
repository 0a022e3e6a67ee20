import { randomBytes } from 'node:crypto';
import type { schemas } from '@aip/contracts';

// A conversation's items in OpenAI's shape (the Conversations API shows them as they are stored),
// and the two translations the platform needs: a chat turn into items (what a worker appends after
// an answer) and items into chat turns (what a prompt is built from). Pure functions.

/** A turn as a prompt takes it (libs/llm's ChatMessage): images by URL only. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  parts?: ({ type: 'text'; text: string } | { type: 'image'; url: string; detail?: 'auto' | 'low' | 'high' })[];
  toolCalls?: schemas.ToolCall[];
  toolCallId?: string;
}

export type ItemContent =
  | { type: 'input_text'; text: string }
  | { type: 'output_text'; text: string; annotations: unknown[] }
  | { type: 'input_image'; image_url: string; detail?: 'auto' | 'low' | 'high' };

export type NewConversationItem =
  | { type: 'message'; role: 'user' | 'assistant' | 'system' | 'developer'; content: ItemContent[] }
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string };

/** An item as stored and shown: its id and `status` added (`completed`: the platform stores only finished turns). */
export type ConversationItem = NewConversationItem & { id: string; status: 'completed' };

const PREFIX: Record<NewConversationItem['type'], string> = { message: 'msg', function_call: 'fc', function_call_output: 'fco' };

/** A new item's id, OpenAI-like (`msg_…`, `fc_…`, `fco_…`): random, never reused. */
export function withId(item: NewConversationItem): ConversationItem {
  return { id: `${PREFIX[item.type]}_${randomBytes(12).toString('hex')}`, ...item, status: 'completed' };
}

/** Said in place of an image the platform no longer has (an inline image lives only as long as its task). */
export const IMAGE_GONE = '[an image sent earlier in this conversation; it is no longer available]';

/** The text of a message item: its text parts joined. */
export function textOf(item: Extract<NewConversationItem, { type: 'message' }>): string {
  return item.content.map((part) => (part.type === 'input_image' ? '' : part.text)).join('');
}

/**
 * The items of the turns a request added and of its answer: the messages after the request's last
 * assistant turn (what the client said this time: its user turn, or the results of the tools the
 * answer before called), then the answer (its text and its tool calls). System messages are the
 * request's instructions, not the conversation: they are not kept.
 */
export function itemsOfExchange(messages: readonly schemas.ChatMessage[], answer: { text: string; toolCalls?: readonly schemas.ToolCall[] | undefined }): NewConversationItem[] {
  const lastAssistant = messages.findLastIndex((message) => message.role === 'assistant');
  const items: NewConversationItem[] = [];
  for (const message of messages.slice(lastAssistant + 1)) {
    if (message.role === 'tool') items.push({ type: 'function_call_output', call_id: message.toolCallId ?? '', output: message.content });
    else if (message.role === 'user') items.push({ type: 'message', role: 'user', content: userContent(message) });
  }
  if (answer.text !== '' || !answer.toolCalls?.length) items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: answer.text, annotations: [] }] });
  for (const call of answer.toolCalls ?? []) items.push({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments });
  return items;
}

function userContent(message: schemas.ChatMessage): ItemContent[] {
  if (!message.parts) return [{ type: 'input_text', text: message.content }];
  return message.parts.map((part): ItemContent => {
    if (part.type === 'text') return { type: 'input_text', text: part.text };
    // A stored image expires with its task: the conversation keeps a marker, not a dangling reference.
    return part.url ? { type: 'input_image', image_url: part.url, ...(part.detail ? { detail: part.detail } : {}) } : { type: 'input_text', text: IMAGE_GONE };
  });
}

/**
 * The chat turns of stored items, oldest first: messages as turns (developer as system), an
 * assistant's function calls as one assistant turn with tool calls (joined to its text, if any),
 * a call's output as a `tool` turn.
 */
export function chatTurnsOf(items: readonly NewConversationItem[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  for (const item of items) {
    if (item.type === 'function_call') {
      const call = { id: item.call_id, name: item.name, arguments: item.arguments };
      const last = turns.at(-1);
      if (last?.role === 'assistant') last.toolCalls = [...(last.toolCalls ?? []), call];
      else turns.push({ role: 'assistant', content: '', toolCalls: [call] });
    } else if (item.type === 'function_call_output') {
      turns.push({ role: 'tool', content: item.output, toolCallId: item.call_id });
    } else {
      const images = item.content.some((part) => part.type === 'input_image');
      turns.push({
        role: item.role === 'developer' ? 'system' : item.role,
        content: textOf(item),
        ...(images ? { parts: item.content.map((part) => (part.type === 'input_image' ? { type: 'image' as const, url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } : { type: 'text' as const, text: part.text })) } : {}),
      });
    }
  }
  return turns;
}

/** A text turn (what an analysis of the conversation, or a search query rewrite, reads). */
export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** The user and assistant messages of items, as text, oldest first. */
export function textTurnsOf(items: readonly NewConversationItem[]): Turn[] {
  return items.flatMap((item) => (item.type === 'message' && (item.role === 'user' || item.role === 'assistant') ? [{ role: item.role, content: textOf(item) }] : []));
}

/** A message item of plain text (a user's input text, an assistant's output text). */
export function textItem(role: 'user' | 'assistant', text: string): NewConversationItem {
  return { type: 'message', role, content: [role === 'user' ? { type: 'input_text', text } : { type: 'output_text', text, annotations: [] }] };
}
