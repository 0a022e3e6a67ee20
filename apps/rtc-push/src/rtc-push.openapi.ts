import { chatFrame, serverFrame } from '@aip/contracts';
import { errorResponses, json, jsonBody, platformOpenApiDocument } from '@aip/runtime';
import { z } from 'zod';
import { ackBody } from './gateway/sse-request.schema.ts';
import { pageConfigSchema } from './page-config.schema.ts';

/** Browsers cannot send headers with EventSource: the realtime token travels in the query instead. */
const credentials = z.object({
  token: z.string().optional().meta({ description: 'A realtime token (POST /v1/realtime/tokens of access), instead of the Authorization header.' }),
  user: z.string().optional().meta({ description: 'With an API key (Authorization: Bearer): the end user to act for.' }),
});
const security: Record<string, string[]>[] = [{ apiKey: [] }, { realtimeToken: [] }];
const serverFrameSchema = serverFrame.meta({ id: 'ServerFrame', description: 'The `data:` of each event (its `event:` is the frame type).' });
const frames = (description: string) => ({ description, content: { 'text/event-stream': { schema: serverFrameSchema } } });
const authErrors = { 400: 'Invalid parameters or body.', 401: 'No valid API key or realtime token.' };

/** rtc-push's OpenAPI document: the realtime edge over HTTP (SSE, acks, chat) and the web page's settings. */
export function appOpenApi(): Record<string, unknown> {
  // The chat frame of the socket, sent as the body; `type` is implied.
  const chatBody = z.object(chatFrame.shape).omit({ type: true }).meta({ id: 'ChatRequest', description: 'Exactly one of `text` or `messages`.' });
  return platformOpenApiDocument({
    title: 'rtc-push',
    description:
      'The realtime edge for clients that cannot use the WebSocket (`/v1/ws`, frames in docs/realtime-protocol.md): the push stream over server-sent events, acknowledgements and chat. Authenticate with an API key and `user`, or with a realtime token (header or `token` query parameter). The web page is served at `/`.',
    paths: {
      '/v1/sse': {
        get: {
          tags: ['realtime'],
          summary: 'The push stream: welcome, then pushes (resumable with Last-Event-ID)',
          security,
          requestParams: {
            query: credentials.extend({ lastEventId: z.string().optional().meta({ description: 'Resume after this push id (for clients that cannot set the header).' }) }),
            header: z.object({ 'last-event-id': z.string().optional().meta({ description: 'Resume after this push id.' }) }),
          },
          responses: { '200': frames('Server frames: `welcome` first, then `push` frames to acknowledge with POST /v1/ack; comments keep the stream alive.'), ...errorResponses({ ...authErrors, 429: 'Too many connections for this user or key.', 503: 'Authentication is unavailable; retry.' }) },
        },
      },
      '/v1/ack': {
        post: {
          tags: ['realtime'],
          summary: 'Acknowledge pushes (not sent again)',
          security,
          requestParams: { query: credentials },
          requestBody: jsonBody(ackBody.meta({ id: 'Ack' })),
          responses: { '204': { description: 'Acknowledged.' }, ...errorResponses({ ...authErrors, 503: 'Authentication is unavailable; retry.' }) },
        },
      },
      '/v1/chat': {
        post: {
          tags: ['realtime'],
          summary: 'Chat: the answer streamed as server frames',
          security,
          requestParams: { query: credentials },
          requestBody: jsonBody(chatBody),
          responses: { '200': frames('`accepted`, `delta`s, `sources`, then `done` or `error`.'), ...errorResponses({ ...authErrors, 429: 'Too many chats at once for this user or key.', 503: 'Authentication is unavailable; retry.' }) },
        },
      },
      '/config.json': { get: { tags: ['web page'], summary: "The web page's settings", security: [], responses: { '200': json('Where access and knowledge-ingest are, and the model to chat with.', pageConfigSchema) } } },
    },
    securitySchemes: { realtimeToken: { type: 'http', scheme: 'bearer', description: 'A realtime token of access (POST /v1/realtime/tokens), for browsers.' } },
  });
}
