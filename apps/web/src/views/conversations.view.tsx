import type { Conversations } from '../chat/conversations.store.ts';
import { useStore } from '../support/use-store.ts';

/** The user's conversations, most recent first: choose one to continue it, or start a new one. */
export function ConversationsPanel({ conversations, onOpen, onNew }: { conversations: Conversations; onOpen: (id: string) => void; onNew: () => void }) {
  const { list, current } = useStore(conversations);
  return (
    <nav class="conversations" aria-labelledby="conversations-title">
      <h2 id="conversations-title">Conversations</h2>
      <button type="button" id="new-conversation" onClick={onNew}>
        New conversation
      </button>
      <ol id="conversation-list">
        {list.map((item) => (
          <li key={item.id} class={`conversation${item.id === current ? ' current' : ''}`} data-id={item.id} aria-current={item.id === current ? 'true' : undefined}>
            <button type="button" class="quiet" onClick={() => onOpen(item.id)} title={new Date(item.updatedAt * 1_000).toLocaleString()}>
              {item.title}
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}
