// Everything the page holds outside its components, made once per page load.
import { Conversation } from './chat/conversation.store.ts';
import { Conversations, newConversationId } from './chat/conversations.store.ts';
import { KnowledgeClient } from './knowledge/knowledge.client.ts';
import { Uploads } from './knowledge/uploads.store.ts';
import { TokenSource } from './realtime/token-source.ts';
import { Credentials } from './settings/credentials.ts';
import { httpError } from './settings/http-error.ts';
import type { PageConfig } from './settings/page-config.ts';
import { Speaker } from './speech/speaker.ts';

export type PageServices = ReturnType<typeof pageServices>;

export function pageServices(config: PageConfig) {
  const credentials = new Credentials(localStorage);
  const tokens = new TokenSource(config, credentials);
  const knowledge = new KnowledgeClient(() => config.knowledgeUrl, () => credentials.apiKey);
  const conversation = new Conversation({
    nameOf: (docId) => knowledge.names.get(docId),
    fetchTask: async (taskId) => {
      const response = await fetch(`${config.accessUrl}/v1/tasks/${encodeURIComponent(taskId)}`, { headers: { authorization: `Bearer ${credentials.apiKey}` } });
      if (!response.ok) throw await httpError(response);
      return response.json();
    },
  });
  // The conversation this tab is in: the server keeps it under this id (the chat's session id).
  const sessionId = sessionStorage.getItem('aip.sessionId') ?? newConversationId();
  sessionStorage.setItem('aip.sessionId', sessionId);
  // access, with the user's realtime token: the user's own conversations and nobody else's.
  const fromAccess = async <T>(path: string): Promise<T> => {
    const { token } = await tokens.token();
    const response = await fetch(`${config.accessUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw await httpError(response);
    return (await response.json()) as T;
  };
  type ItemPage = { data: Awaited<ReturnType<ConstructorParameters<typeof Conversations>[0]['items']>>; has_more: boolean; last_id: string | null };
  const conversations = new Conversations(
    {
      list: () => fromAccess('/v1/conversations?limit=50'),
      items: async (id) => {
        const items: ItemPage['data'] = [];
        for (let after = '', more = true; more; ) {
          const page = await fromAccess<ItemPage>(`/v1/conversations/${encodeURIComponent(id)}/items?order=asc&limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
          items.push(...page.data);
          [after, more] = [page.last_id ?? '', page.has_more];
        }
        return items;
      },
    },
    sessionId,
    (id) => sessionStorage.setItem('aip.sessionId', id),
  );
  return {
    config,
    credentials,
    tokens,
    conversation,
    uploads: new Uploads(knowledge),
    speaker: new Speaker(window, localStorage),
    conversations,
    /** Another user's suggestions and conversation must not stay on screen: start afresh. */
    restartAsNewUser: () => {
      sessionStorage.removeItem('aip.sessionId');
      location.reload();
    },
  };
}
