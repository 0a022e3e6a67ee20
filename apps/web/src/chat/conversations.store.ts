// The user's conversations (access's `GET /v1/conversations`, with the realtime token: the page
// sees its own user's only), and which one the chat is in. A new conversation gets a fresh id; the
// server makes it on its first message. Choosing another loads its items into the chat.
import { Store } from '../support/store.ts';

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: number;
}

/** A message of a stored conversation, as the chat shows it. */
export interface StoredMessage {
  role: 'user' | 'assistant';
  text: string;
}

export interface ConversationsState {
  list: readonly ConversationSummary[];
  current: string;
}

/** What the store asks of access (tests give their own). */
export interface ConversationsApi {
  list(): Promise<{ data: { id: string; title: string | null; updated_at: number }[] }>;
  /** Every item, oldest first. */
  items(id: string): Promise<{ type: string; role?: string; content?: { type: string; text?: string }[] }[]>;
}

/** The chat's text of stored items: user and assistant messages, their text parts joined. */
export function messagesOf(items: Awaited<ReturnType<ConversationsApi['items']>>): StoredMessage[] {
  return items.flatMap((item) =>
    item.type === 'message' && (item.role === 'user' || item.role === 'assistant') ? [{ role: item.role, text: (item.content ?? []).map((part) => part.text ?? '').join('') }] : [],
  );
}

export const newConversationId = () => `s-${crypto.randomUUID()}`;

export class Conversations extends Store<ConversationsState> {
  constructor(
    private readonly api: ConversationsApi,
    current: string,
    private readonly remember: (id: string) => void,
  ) {
    super({ list: [], current });
  }

  /** Reads the list again (after an answer: the conversation moved to the top, or is new). */
  async refresh(): Promise<void> {
    const { data } = await this.api.list();
    this.set({ ...this.value, list: data.map((c) => ({ id: c.id, title: c.title ?? 'New conversation', updatedAt: c.updated_at })) });
  }

  /** Switches to a stored conversation; answers its messages for the chat. */
  async open(id: string): Promise<StoredMessage[]> {
    const messages = messagesOf(await this.api.items(id));
    this.choose(id);
    return messages;
  }

  /** Starts a new, empty conversation. */
  startNew(): void {
    this.choose(newConversationId());
  }

  private choose(id: string): void {
    this.remember(id);
    this.set({ ...this.value, current: id });
  }
}
