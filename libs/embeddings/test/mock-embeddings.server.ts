/**
 * A tiny OpenAI-compatible `/v1/embeddings` server on loopback for the adapter's tests. Vectors are
 * derived from a hash of the text (same text → same vector), honour `encoding_format` (float or
 * base64, like OpenAI) and `dimensions`, and every request is recorded for assertions.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockEmbeddingsOptions {
  /** Vector length when the request does not ask for `dimensions` (default 8). */
  dimension?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Answer every request with this HTTP error instead. */
  failWith?: 500 | 429 | 400;
}

export interface RecordedRequest {
  authorization: string | undefined;
  body: { model?: string; input?: string | string[]; encoding_format?: string; dimensions?: number };
}

export interface MockEmbeddings {
  /** Base URL including /v1. */
  url: string;
  requests: RecordedRequest[];
  vectorOf(text: string, dimension?: number): number[];
  close(): Promise<void>;
}

function vectorOf(text: string, dimension: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimension; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (const byte of digest) if (values.length < dimension) values.push((byte - 127.5) / 127.5);
  }
  // Float32 round trip so float and base64 answers carry the same numbers.
  return Array.from(new Float32Array(values));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startMockEmbeddings(options: MockEmbeddingsOptions = {}): Promise<MockEmbeddings> {
  const requests: RecordedRequest[] = [];
  const dimension = options.dimension ?? 8;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') return send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
      let body: RecordedRequest['body'];
      try {
        body = JSON.parse(raw) as RecordedRequest['body'];
      } catch {
        return send(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
      }
      requests.push({ authorization: req.headers.authorization, body });
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        return send(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      }
      if (options.failWith) return send(res, options.failWith, { error: { message: `injected ${options.failWith}`, type: 'server_error' } });
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      if (!Array.isArray(inputs) || inputs.length === 0 || !body.model) {
        return send(res, 400, { error: { message: "'input' and 'model' are required", type: 'invalid_request_error' } });
      }
      const size = body.dimensions ?? dimension;
      const data = inputs.map((text, index) => {
        const vector = vectorOf(text, size);
        const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
        return { object: 'embedding', index, embedding };
      });
      const tokens = inputs.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
      send(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    vectorOf: (text, size = dimension) => vectorOf(text, size),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
