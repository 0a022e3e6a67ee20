import { useLayoutEffect, useRef } from 'preact/hooks';
import type { Conversation, Entry } from '../chat/conversation.store.ts';
import { useStore } from '../support/use-store.ts';

export function ChatPanel({ conversation, canSend, onAsk }: { conversation: Conversation; canSend: boolean; onAsk: (text: string) => void }) {
  const entries = useStore(conversation);
  const list = useRef<HTMLOListElement>(null);
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  // Keep the newest message (and the answer as it streams) in view.
  useLayoutEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [entries]);

  const submit = (event: Event) => {
    event.preventDefault();
    const text = input.current?.value.trim() ?? '';
    if (!text || !input.current) return;
    input.current.value = '';
    onAsk(text);
  };

  const keyDown = (event: KeyboardEvent) => {
    // Enter sends, Shift+Enter is a new line.
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.current?.requestSubmit();
    }
  };

  return (
    <section class="chat" aria-labelledby="chat-title">
      <h2 id="chat-title" class="visually-hidden">
        Chat
      </h2>
      <ol id="messages" class="messages" aria-live="polite" ref={list}>
        {entries.map((entry) => (
          <Message key={entry.key} entry={entry} />
        ))}
      </ol>
      <form id="chat-form" class="composer" ref={form} onSubmit={submit}>
        <label for="chat-input" class="visually-hidden">
          Message
        </label>
        <textarea id="chat-input" name="text" rows={2} placeholder="Ask something…" required maxLength={32000} ref={input} onKeyDown={keyDown}></textarea>
        <button type="submit" id="send" disabled={!canSend}>
          Send
        </button>
      </form>
    </section>
  );
}

function Message({ entry }: { entry: Entry }) {
  switch (entry.kind) {
    case 'user':
      return (
        <li class="message user" data-role="user">
          {entry.text}
        </li>
      );
    case 'proactive':
      return (
        <li class="message proactive" data-role="proactive" data-push-id={entry.pushId}>
          <span class="meta">{`suggested · ${entry.label}`}</span>
          {entry.text}
        </li>
      );
    case 'answer':
      return (
        <li class="message assistant" data-role="assistant" data-ref={entry.ref} data-status={entry.status} data-task-id={entry.taskId}>
          <span class="text">{entry.text}</span>
          <span class="meta">{entry.meta}</span>
          {entry.sources && (
            <ol class="sources" aria-label="Sources">
              {entry.sources.map((source, index) => (
                <li key={index} title={source.title}>
                  {source.label}
                </li>
              ))}
            </ol>
          )}
        </li>
      );
  }
}
