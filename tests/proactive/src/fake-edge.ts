// A stand-in for the services the page talks to (rtc-push's socket and config, access's token and
// task endpoints, knowledge-ingest's upload API), all on one origin, speaking the documented
// protocol (docs/realtime-protocol.md) and scripted by the test. It serves the real page as built
// (apps/web/dist, `nx run @aip/web:build`; the int-test target builds it first), so the page's own behaviour (resume, acks, dedupe, backoff, upload progress, speech) is tested
// in a real browser on cases the real stack cannot be steered into on demand.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';

export const WEB_DIR = fileURLToPath(new URL('../../../apps/web/dist/', import.meta.url));

export interface FakeConnection {
  socket: WebSocket;
  token: string;
  /** Frames the page sent, parsed. */
  received: Record<string, unknown>[];
  closed: boolean;
}

export interface PushInput {
  id: string;
  seq: number;
  text: string;
  intent?: string;
  kind?: 'proactive' | 'notice';
  redelivery?: number;
}

export class FakeEdge {
  readonly connections: FakeConnection[] = [];
  readonly tokensIssued: { user: string; token: string }[] = [];
  readonly documents = new Map<string, { kb: string; name: string; bytes: number; polls: number }>();
  /** When true the socket endpoint refuses connections (a server that is down). */
  refuse = false;
  /** Chat frames are answered by this script (default: a two-delta answer with one source). */
  onChat: (connection: FakeConnection, frame: { ref: string; text?: string }) => void = (connection, frame) => {
    const taskId = `task-${frame.ref}`;
    send(connection, { type: 'accepted', ref: frame.ref, taskId });
    send(connection, { type: 'delta', ref: frame.ref, taskId, text: 'The Forbidden City ' });
    send(connection, { type: 'delta', ref: frame.ref, taskId, text: 'and the Great Wall.' });
    send(connection, { type: 'sources', ref: frame.ref, taskId, sources: [{ docId: 'doc-1', version: 'v1', position: 0 }] });
    send(connection, { type: 'done', ref: frame.ref, taskId, finishReason: 'stop', model: 'extractive', usage: { promptTokens: 5, completionTokens: 7, totalTokens: 12 } });
  };
  readonly tasks = new Map<string, Record<string, unknown>>();
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(private readonly app: FastifyInstance, readonly url: string) {}

  static async start(): Promise<FakeEdge> {
    if (!existsSync(join(WEB_DIR, 'index.html'))) throw new Error(`the web page is not built (no ${WEB_DIR}index.html): run npx nx run @aip/web:build`);
    const app = Fastify();
    // Routes are registered before the port (and so the URL) is known; they read the edge from here.
    const self = {} as { edge: FakeEdge };
    await app.register(fastifyStatic, { root: WEB_DIR });
    app.get('/config.json', async () => ({ accessUrl: self.edge.url, knowledgeUrl: self.edge.url, realtimeUrl: `${self.edge.url.replace('http', 'ws')}/v1/ws`, model: 'extractive' }));
    app.post('/v1/realtime/tokens', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer sk-aip-good') return reply.status(401).send({ error: { message: 'Invalid API key.', code: 'invalid_api_key' } });
      const { user } = request.body as { user: string };
      const token = `rtt_${self.edge.tokensIssued.length + 1}`;
      self.edge.tokensIssued.push({ user, token });
      return reply.status(201).send({ token, userId: user, expiresAt: new Date(Date.now() + 300_000).toISOString() });
    });
    app.get('/v1/tasks/:id', async (request, reply) => {
      const task = self.edge.tasks.get((request.params as { id: string }).id);
      return task ? task : reply.status(404).send({ error: { message: 'no such task' } });
    });
    app.addContentTypeParser('multipart/form-data', (_request, payload, done) => {
      let bytes = 0;
      payload.on('data', (chunk: Buffer) => (bytes += chunk.length));
      payload.on('end', () => done(null, { bytes }));
      payload.on('error', done);
    });
    app.post('/v1/knowledge-bases', async (_request, reply) => reply.status(201).send({ id: 'travel' }));
    app.post('/v1/knowledge-bases/:kb/documents', async (request, reply) => {
      const id = `doc-${self.edge.documents.size + 1}`;
      self.edge.documents.set(id, { kb: (request.params as { kb: string }).kb, name: id, bytes: (request.body as { bytes: number }).bytes, polls: 0 });
      return reply.status(202).send({ id, status: 'queued' });
    });
    app.get('/v1/knowledge-bases/:kb/documents/:doc', async (request, reply) => {
      const doc = self.edge.documents.get((request.params as { doc: string }).doc);
      if (!doc) return reply.status(404).send({ error: { message: 'no such document' } });
      doc.polls += 1;
      // Three polls of visible progress, then indexed.
      return doc.polls < 3 ? { id: (request.params as { doc: string }).doc, status: 'indexing', progress: { done: doc.polls, total: 3 } } : { id: (request.params as { doc: string }).doc, status: 'indexed', chunks: 3 };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const edge = new FakeEdge(app, `http://127.0.0.1:${port}`);
    self.edge = edge;
    app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => edge.upgrade(request, socket, head));
    return edge;
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(request.url ?? '/', this.url);
    if (url.pathname !== '/v1/ws' || this.refuse) return socket.destroy();
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const connection: FakeConnection = { socket: ws, token: url.searchParams.get('token') ?? '', received: [], closed: false };
      this.connections.push(connection);
      ws.on('close', () => (connection.closed = true));
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Record<string, unknown> & { type: string };
        connection.received.push(frame);
        if (frame.type === 'hello') send(connection, { type: 'welcome', v: 1, connectionId: `c${this.connections.length}`, userId: 'u', pending: 0, resendAfterMs: 10_000, heartbeatMs: 30_000, limits: { maxFrameBytes: 65_536, maxAckIds: 500, maxChatChars: 32_000 } });
        if (frame.type === 'ping') send(connection, { type: 'pong', t: frame['t'] as number });
        if (frame.type === 'chat') this.onChat(connection, frame as unknown as { ref: string; text?: string });
      });
    });
  }

  /** The open connection (the latest one). */
  get current(): FakeConnection | undefined {
    return this.connections.filter((c) => !c.closed).at(-1);
  }

  push(connection: FakeConnection, push: PushInput): void {
    send(connection, { type: 'push', kind: 'proactive', intent: 'hotel_suggest', time: new Date().toISOString(), redelivery: 0, ...push });
  }

  /** Every push id the page acked on any connection. */
  acked(): string[] {
    return this.connections.flatMap((c) => c.received.filter((f) => f['type'] === 'ack').flatMap((f) => f['ids'] as string[]));
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    this.wss.close();
    await this.app.close();
  }
}

export function send(connection: FakeConnection, frame: Record<string, unknown>): void {
  connection.socket.send(JSON.stringify(frame));
}
