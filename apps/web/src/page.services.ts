// Everything the page holds outside its components, made once per page load.
import { Conversation } from './chat/conversation.store.ts';
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
  // One conversation per browser tab: the server keeps its history under this session id.
  const sessionId = sessionStorage.getItem('aip.sessionId') ?? `s-${crypto.randomUUID()}`;
  sessionStorage.setItem('aip.sessionId', sessionId);
  return {
    config,
    credentials,
    tokens,
    conversation,
    uploads: new Uploads(knowledge),
    speaker: new Speaker(window, localStorage),
    sessionId,
    /** Another user's suggestions and conversation must not stay on screen: start afresh. */
    restartAsNewUser: () => {
      sessionStorage.removeItem('aip.sessionId');
      location.reload();
    },
  };
}
