// Wires the page: API key dialog → realtime token → socket; chat over the socket; proactive
// prompts; knowledge upload; reading prompts aloud. The logic is in the stores and clients.
import type { PushFrame } from '@aip/contracts';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { PageServices } from '../page.services.ts';
import { RealtimeClient, type StateDetail } from '../realtime/realtime.client.ts';
import { ChatPanel } from './chat.view.tsx';
import { ConnectionIndicator } from './connection.view.tsx';
import { ConversationsPanel } from './conversations.view.tsx';
import { KeyDialog, type KeyDialogRequest } from './key-dialog.view.tsx';
import { KnowledgePanel } from './knowledge.view.tsx';
import { PromptsPanel } from './prompts.view.tsx';

export function App({ services }: { services: PageServices }) {
  const { config, credentials, tokens, conversation, conversations, uploads, speaker } = services;
  const [detail, setDetail] = useState<StateDetail>({ state: 'idle', attempt: 0, reconnects: 0 });
  const [pushes, setPushes] = useState<readonly PushFrame[]>([]);
  const [dialog, setDialog] = useState<KeyDialogRequest>();
  const client = useRef<RealtimeClient>(undefined);

  const openKeyDialog = useCallback(
    (problem?: string) => setDialog({ apiKey: credentials.apiKey, userId: credentials.userId, ...(problem ? { problem } : {}) }),
    [credentials],
  );

  const connect = useCallback(() => {
    client.current?.stop();
    if (!credentials.apiKey) return openKeyDialog();
    const next = new RealtimeClient({
      socketUrl: () => tokens.socketUrl(),
      store: { get: (key) => localStorage.getItem(key), set: (key, value) => localStorage.setItem(key, value) },
      storeKey: `aip.lastPushId.${credentials.userId}`,
    });
    next.on('state', (state) => {
      setDetail(state);
      if (state.state !== 'open') conversation.interruptStreaming();
      else void conversation.recoverInterrupted();
      if (state.state === 'unauthorized') openKeyDialog(state.reason);
    });
    next.on('unauthorized', () => tokens.invalidate());
    next.on('push', (push) => {
      setPushes((shown) => [push, ...shown]);
      conversation.addProactive(push);
      speaker.say(push.text, document.documentElement.lang || 'en');
    });
    next.on('chat', (frame) => {
      conversation.onFrame(frame);
      // The conversation moved to the top of the list (or is new there).
      if (frame.type === 'done') void conversations.refresh().catch((error: unknown) => console.warn('conversations', error));
    });
    next.on('error', (frame) => console.warn('realtime error', frame));
    client.current = next;
    next.start();
  }, [credentials, tokens, conversation, speaker, openKeyDialog]);

  useEffect(() => {
    const offline = () => client.current?.networkLost();
    const online = () => client.current?.networkBack();
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    document.documentElement.dataset['ready'] = 'true';
    connect();
    // The tab's conversation as stored (after a reload), and the list beside it.
    if (credentials.apiKey) {
      void conversations
        .open(conversations.value.current)
        .then((messages) => conversation.show(messages))
        .catch(() => undefined); // a new conversation is not stored yet
      void conversations.refresh().catch((error: unknown) => console.warn('conversations', error));
    }
    return () => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
      client.current?.stop();
    };
  }, [connect]);

  const ask = (text: string) => {
    if (!client.current) return;
    const ref = `c-${crypto.randomUUID()}`;
    conversation.addUser(text);
    conversation.startAnswer(ref);
    if (!client.current.sendChat({ ref, text, sessionId: conversations.value.current, model: config.model })) conversation.fail(ref, 'not connected — try again when the connection is back');
  };

  const save = (apiKey: string, userId: string) => {
    const previousUser = credentials.userId;
    credentials.apiKey = apiKey;
    credentials.userId = userId;
    tokens.invalidate();
    if (credentials.userId !== previousUser) return services.restartAsNewUser();
    connect();
  };

  const forget = () => {
    credentials.apiKey = '';
    tokens.invalidate();
    client.current?.stop();
  };

  return (
    <>
      <header class="bar">
        <h1>AIP</h1>
        <ConnectionIndicator detail={detail} />
        <button type="button" id="key-button" class="quiet" onClick={() => openKeyDialog()}>
          API key…
        </button>
      </header>
      <main class="layout">
        <ConversationsPanel
          conversations={conversations}
          onOpen={(id) => void conversations.open(id).then((messages) => conversation.show(messages), (error: unknown) => console.warn('conversation', error))}
          onNew={() => {
            conversations.startNew();
            conversation.show([]);
          }}
        />
        <ChatPanel conversation={conversation} canSend={detail.state === 'open'} onAsk={ask} />
        <aside class="side">
          {/* Accepting the offer sends it back with the prompt's own words: they carry what it is about (the city). */}
          <PromptsPanel pushes={pushes} speaker={speaker} onAccept={(push) => ask(`Yes, please: ${push.text}`)} />
          <KnowledgePanel uploads={uploads} />
        </aside>
      </main>
      <KeyDialog request={dialog} onSave={save} onForget={forget} />
    </>
  );
}
