import fc from 'fast-check';
import { contentType, deepJson, encodeBody, encodings, hostileId, hostileSegment, injectedHeaderValue, mutated, nastyString, NASTY_STRINGS } from './hostile.ts';
import type { RawRequest } from './raw-http.ts';

/** The apps the HTTP fuzz reaches. */
export type AppName = 'access' | 'access-admin' | 'knowledge-ingest' | 'rtc-push' | 'intent-scheduler';

/** One generated request: which app, which route it aims at, and the bytes. */
export interface FuzzRequest {
  app: AppName;
  route: string;
  raw: RawRequest;
}

/** What the generators need to aim well: credentials and ids that exist. */
export interface FuzzContext {
  adminToken: string;
  /** The fuzz tenant's key (the well-behaved client has its own, of another tenant). */
  key: string;
  /** Tasks of the fuzz tenant that exist (their events replay and end). */
  taskIds: string[];
  /** Knowledge bases of the fuzz tenant that exist, and a document in the first. */
  kbIds: string[];
  docId: string;
  /** A realtime token of the fuzz tenant. */
  realtimeToken: string;
}

const show = (value: string | Buffer) => JSON.stringify(Buffer.isBuffer(value) ? value.toString('latin1') : value);

/** How fast-check prints a counterexample: the request as a reader can replay it. */
export function describeRequest(request: FuzzRequest): string {
  const { raw } = request;
  const body = raw.body ? (raw.body.length > 600 ? `${show(raw.body.subarray(0, 600))}… (${raw.body.length} bytes)` : show(raw.body)) : '';
  const target = show(raw.target);
  return `${request.app} ${raw.method} ${target.length > 300 ? `${target.slice(0, 300)}… (${raw.target.length} bytes)` : target}\n  headers: ${raw.headers.map(([n, v]) => `${n}: ${show(v).slice(0, 200)}`).join(' | ')}${body ? `\n  body: ${body}` : ''}`;
}

function request(app: AppName, route: string, raw: RawRequest): FuzzRequest {
  const value: FuzzRequest = { app, route, raw };
  Object.defineProperty(value, fc.toStringMethod, { value: () => describeRequest(value), enumerable: false });
  return value;
}

/** Authorization: mostly the right key (so the request reaches the handler), sometimes broken ways to present it. */
function authorization(secret: string): fc.Arbitrary<[string, string | Buffer][]> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<[string, string | Buffer][]>([['authorization', `Bearer ${secret}`]]) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<[string, string | Buffer][]>(
        [],
        [['authorization', 'Bearer']],
        [['authorization', 'Bearer ']],
        [['authorization', `bearer ${secret}`]],
        [['authorization', `Basic ${Buffer.from(`x:${secret}`).toString('base64')}`]],
        [['authorization', `Bearer ${secret}\u0000`]],
        [['authorization', `Bearer ${secret}`], ['authorization', 'Bearer sk-aip-other']],
        [['authorization', `Bearer ${'x'.repeat(9_000)}`]],
        [['authorization', Buffer.from([0x42, 0x65, 0x61, 0x72, 0x65, 0x72, 0x20, 0xff, 0xfe, 0x00])]],
      ),
    },
    { weight: 1, arbitrary: nastyString.map((s): [string, string | Buffer][] => [['authorization', `Bearer ${s}`]]) },
    { weight: 1, arbitrary: injectedHeaderValue.map((v): [string, string | Buffer][] => [['authorization', Buffer.isBuffer(v) ? Buffer.concat([Buffer.from(`Bearer ${secret}`), v]) : `Bearer ${secret}${v}`]]) },
  );
}

/** A JSON body of a route: a mutation of a valid body, sent in one of the encodings under one of the content types. */
function jsonBody(valid: Parameters<typeof mutated>[0]): fc.Arbitrary<{ headers: [string, string][]; body: Buffer }> {
  return fc.tuple(mutated(valid), fc.constantFrom(...encodings), fc.double({ min: 0, max: 1, noNaN: true }), contentType).map(([value, encoding, cut, type]) => ({
    headers: type === undefined ? [] : [['content-type', type]],
    body: encodeBody(value, encoding, cut),
  }));
}

/** Extra headers that should not matter: injection attempts, odd framing, huge values. */
const extraHeaders: fc.Arbitrary<[string, string | Buffer][]> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<[string, string | Buffer][]>([]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x-request-id', 'idempotency-key', 'last-event-id', 'x-forwarded-for', 'origin', 'accept', 'accept-encoding', 'cookie', 'user-agent', 'x-injected'), injectedHeaderValue).map(([n, v]): [string, string | Buffer][] => [[n, v]]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('idempotency-key', 'last-event-id', 'x-forwarded-for', 'x-request-id', 'accept-language'), nastyString).map(([n, v]): [string, string | Buffer][] => [[n, v]]) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<[string, string | Buffer][]>(
      [['transfer-encoding', 'chunked'], ['content-length', '5']],
      [['content-length', '-1']],
      [['content-length', '99999999999999999999']],
      [['content-length', '1'], ['content-length', '2']],
      [['transfer-encoding', 'gzip, chunked']],
      [['expect', '100-continue']],
      [['content-encoding', 'gzip']],
      [['content-encoding', 'br']],
      [['host', '']],
      [['host', 'a'], ['host', 'b']],
      [['x-http-method-override', 'DELETE']],
      [['connection', 'keep-alive, upgrade'], ['upgrade', 'h2c']],
    ),
  },
);

/** A path: the route's template with each id hostile or real. */
const idOr = (real: string[]): fc.Arbitrary<string> => (real.length ? fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...real) }, { weight: 2, arbitrary: hostileSegment }) : hostileSegment);

const query = (name: string) => fc.oneof(fc.constant(''), nastyString.map((v) => `?${name}=${encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))}`), fc.constantFrom(`?${name}=a&${name}=b`, `?${name}[]=a`, `?${name}[a]=b`, `?${name}`, `?${name}=%`, `?${name}=%00`, `?${name}=%ED%A0%80`, `?__proto__[x]=1`, `?constructor[prototype][x]=1`));

const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO', 'get', 'G\u0000ET');

/** Requests that aim at no route in particular: odd methods, targets and request lines. */
function anywhere(app: AppName, paths: string[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    fc.tuple(methods, fc.constantFrom(...paths, '/', '/health/live', '/health/ready', '/metrics', '/favicon.ico', '/%2e%2e/%2e%2e/etc/passwd', '/..;/admin', '//admin/keys', '/v1/../admin/keys', '/V1/MODELS', '/v1/models/', '/v1/models;x', '/v1/models%00', '/v1/models%23', '/%ED%A0%80', '/%C0%AE%C0%AE/', '*', 'http://evil.example/v1/models', `/${'a/'.repeat(4_000)}`, `/v1/models?${'a=1&'.repeat(3_000)}`), extraHeaders).map(([method, target, headers]) =>
      request(app, 'any', { method, target, headers }),
    ),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => request(app, 'any', { method: 'GET', target: Buffer.concat([Buffer.from('/v1/'), Buffer.from(bytes).filter((b) => b !== 0x20 && b !== 0x0d && b !== 0x0a)]), headers: [] })),
    fc.tuple(fc.constantFrom(...paths), fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1:3005', '\u0000'), fc.constantFrom('authorization, content-type', 'x-a'.repeat(3_000), '\r\n')).map(([target, origin, wanted]) =>
      request(app, 'preflight', { method: 'OPTIONS', target, headers: [['origin', origin], ['access-control-request-method', 'POST'], ['access-control-request-headers', wanted]] }),
    ),
  );
}

// ---------------------------------------------------------------- access

const chatBody = {
  model: 'extractive',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Which sights are in Beijing?' },
  ],
  max_tokens: 64,
  temperature: 0.2,
  user: 'fuzz-user',
  priority: 1,
  knowledge_bases: [],
};

/** What agents and vision clients send besides: n answers, an inline image (claim-checked), log probabilities. */
const richChatBody = {
  model: 'extractive',
  n: 2,
  logprobs: false,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', detail: 'low' } }] }],
  max_tokens: 32,
};

const responsesBody = { model: 'extractive', instructions: 'Be brief.', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Which sights are in Beijing?' }] }], max_output_tokens: 64, metadata: { source: 'fuzz' } };

const conversationBody = { metadata: { topic: 'fuzz' }, items: [{ type: 'message', role: 'user', content: 'Which sights are in Beijing?' }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'The Forbidden City.' }] }] };
const conversationRoutes = ['', '/items', '/items/msg_0', '/items?limit=2&order=asc&after=msg_0'];

const embeddingsBody = { model: 'all-minilm-l6-v2', input: ['Which sights are in Beijing?', 'hello'], encoding_format: 'float' };

function access(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const auth = authorization(ctx.key);
  const admin = authorization(ctx.adminToken);
  const chat = (path: '/v1/chat/completions' | '/v1/tasks', body: Parameters<typeof jsonBody>[0] = chatBody) =>
    fc.tuple(auth, jsonBody(body), fc.boolean(), extraHeaders, fc.option(nastyString, { nil: undefined })).map(([a, body, stream, extra, idem]) => {
      // Half of them stream: a stream must end by itself, with no error chunk a client cannot act on.
      const streamed = stream && path === '/v1/chat/completions' ? Buffer.from(body.body.toString('latin1').replace(/^\{/, '{"stream":true,'), 'latin1') : body.body;
      return request('access', `POST ${path}`, { method: 'POST', target: path, headers: [...a, ...body.headers, ...extra, ...(idem === undefined ? [] : [['idempotency-key', idem] as [string, string]])], body: streamed, stream: 'end' });
    });
  return fc.oneof(
    { weight: 6, arbitrary: chat('/v1/chat/completions') },
    { weight: 2, arbitrary: chat('/v1/tasks') },
    { weight: 2, arbitrary: chat('/v1/chat/completions', richChatBody) },
    {
      weight: 2,
      arbitrary: fc.tuple(auth, jsonBody(responsesBody), fc.boolean()).map(([a, body, stream]) =>
        request('access', 'POST /v1/responses', { method: 'POST', target: '/v1/responses', headers: [...a, ...body.headers], body: stream ? Buffer.from(body.body.toString('latin1').replace(/^\{/, '{"stream":true,'), 'latin1') : body.body, stream: 'end' }),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(auth, fc.constantFrom('GET', 'DELETE'), hostileSegment).map(([a, method, id]) => request('access', `${method} /v1/responses/:id`, { method, target: `/v1/responses/${id}`, headers: a })) },
    // Conversations: made with hostile bodies, the acting user named by a hostile X-User-Id, read back by hostile ids and queries.
    {
      weight: 2,
      arbitrary: fc.tuple(auth, jsonBody(conversationBody), fc.option(nastyString, { nil: undefined })).map(([a, body, user]) =>
        request('access', 'POST /v1/conversations', { method: 'POST', target: '/v1/conversations', headers: [...a, ...body.headers, ...(user === undefined ? [] : [['x-user-id', user] as [string, string]])], body: body.body }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(auth, fc.constantFrom('GET', 'POST', 'DELETE'), hostileSegment, fc.constantFrom(...conversationRoutes), query('limit')).map(([a, method, id, route, q]) =>
        request('access', `${method} /v1/conversations/:id${route.replace(/\?.*/, '')}`, { method, target: `/v1/conversations/${id}${route}${route.includes('?') ? '' : q}`, headers: method === 'POST' ? [...a, ['content-type', 'application/json']] : a, ...(method === 'POST' ? { body: Buffer.from(JSON.stringify({ items: conversationBody.items })) } : {}) }),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(auth, query('after')).map(([a, q]) => request('access', 'GET /v1/conversations', { method: 'GET', target: `/v1/conversations${q}`, headers: a })) },
    { weight: 1, arbitrary: fc.tuple(auth, hostileSegment).map(([a, user]) => request('access', 'GET /v1/users/:userId/export', { method: 'GET', target: `/v1/users/${user}/export`, headers: a })) },
    { weight: 2, arbitrary: fc.tuple(auth, fc.constantFrom('GET', 'DELETE'), idOr(ctx.taskIds), extraHeaders).map(([a, method, id, extra]) => request('access', `${method} /v1/tasks/:id`, { method, target: `/v1/tasks/${id}`, headers: [...a, ...extra] })) },
    {
      weight: 2,
      arbitrary: fc.tuple(auth, idOr(ctx.taskIds), fc.oneof(nastyString, fc.constantFrom('0-0', '1-0', '99999999999999999999-0', '18446744073709551615-18446744073709551615', '-1--1'))).map(([a, id, last]) =>
        request('access', 'GET /v1/tasks/:id/events', { method: 'GET', target: `/v1/tasks/${id}/events`, headers: [...a, ['last-event-id', last]], stream: 'end' }),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(auth, query('x')).map(([a, q]) => request('access', 'GET /v1/models', { method: 'GET', target: `/v1/models${q}`, headers: a })) },
    { weight: 2, arbitrary: fc.tuple(auth, jsonBody(embeddingsBody), extraHeaders).map(([a, body, extra]) => request('access', 'POST /v1/embeddings', { method: 'POST', target: '/v1/embeddings', headers: [...a, ...body.headers, ...extra], body: body.body })) },
    { weight: 2, arbitrary: fc.tuple(auth, jsonBody({ user: 'u-1', ttlSeconds: 60, models: ['extractive'], maxTokens: 256 })).map(([a, b]) => request('access', 'POST /v1/realtime/tokens', { method: 'POST', target: '/v1/realtime/tokens', headers: [...a, ...b.headers], body: b.body })) },
    {
      weight: 2,
      arbitrary: fc.tuple(admin, jsonBody({ tenantId: 'fuzz-admin', subAccount: 'sa', name: 'n', models: ['extractive'], policy: { id: 'p', requestsPerMinute: 60 }, profile: { city: 'Beijing' } })).map(([a, b]) =>
        request('access', 'POST /admin/keys', { method: 'POST', target: '/admin/keys', headers: [...a, ...b.headers], body: b.body }),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(admin, query('tenantId')).map(([a, q]) => request('access', 'GET /admin/keys', { method: 'GET', target: `/admin/keys${q}`, headers: a })) },
    {
      weight: 1,
      arbitrary: fc.tuple(admin, fc.constantFrom('POST', 'DELETE'), hostileSegment).map(([a, method, id]) =>
        request('access', method === 'POST' ? 'POST /admin/keys/:id/rotate' : 'DELETE /admin/keys/:id', { method, target: method === 'POST' ? `/admin/keys/${id}/rotate` : `/admin/keys/${id}`, headers: a }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(admin, fc.oneof(fc.constantFrom('routing', 'words', 'policies', 'intents', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'), hostileSegment)).map(([a, name]) =>
        request('access', 'GET /admin/config/:name', { method: 'GET', target: `/admin/config/${name}`, headers: a }),
      ),
    },
    // The usage ledger, feedback and budgets (ADR 0030, 0031): hostile windows, groupings, filters and ratings.
    {
      weight: 2,
      arbitrary: fc.tuple(auth, fc.constantFrom(...ctx.taskIds), fc.boolean()).chain(([a, taskId, byResponse]) =>
        jsonBody(byResponse ? { response_id: 'resp_fuzz', score: -1 } : { task_id: taskId, score: 0.5, comment: 'fuzzed rating' }).map((body) =>
          request('access', 'POST /v1/feedback', { method: 'POST', target: '/v1/feedback', headers: [...a, ...body.headers], body: body.body }),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(auth, fc.constantFrom('group_by', 'from', 'to', 'model', 'provider', 'user'), fc.constantFrom('', '&group_by=model,day', '&group_by=tenant', '&from=2026-01-01&to=2027-06-01')).chain(([a, param, more]) =>
        query(param).map((q) => request('access', 'GET /v1/usage', { method: 'GET', target: `/v1/usage${q}${q ? more : ''}`, headers: a })),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(admin, fc.constantFrom('group_by', 'from', 'tenant_id', 'key_id', 'format', 'model'), fc.constantFrom('', '&format=csv', '&group_by=tenant,key,user,model,provider,status,hour')).chain(([a, param, more]) =>
        query(param).map((q) => request('access', 'GET /admin/usage', { method: 'GET', target: `/admin/usage${q}${q ? more : ''}`, headers: a })),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(admin, query('tenant_id')).map(([a, q]) => request('access', 'GET /admin/budgets', { method: 'GET', target: `/admin/budgets${q}`, headers: a })) },
    { weight: 1, arbitrary: anywhere('access', ['/v1/chat/completions', '/v1/responses', '/v1/conversations', '/v1/tasks', '/v1/models', '/v1/embeddings', '/admin/keys', '/admin/config/routing', '/v1/realtime/tokens', '/v1/usage', '/v1/feedback', '/admin/usage', '/admin/budgets']) },
  );
}

/**
 * `PUT /admin/config/:name` on an access instance of its own (its own Redis prefix): a mutation
 * may well be a valid document, and a valid routing document without `extractive` would take the
 * model away from the well-behaved client — a legitimate change, not a bug.
 */
const configDocuments: Record<string, Parameters<typeof mutated>[0]> = {
  routing: { models: { extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] }, 'mock-x': { providers: [{ name: 'x', kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', model: 'x', firstTokenTimeoutMs: 1_000 }] } } },
  words: { words: ['darn', 'heck'], input: 'mask' },
  policies: { default: { id: 'd', requestsPerMinute: 600 }, models: {}, tenants: { t: { id: 't', requestsPerMinute: 10, burst: 2 } }, tenantModels: { t: { extractive: { id: 'te', maxConcurrent: 1 } } }, budgets: [{ id: 'b', tenantId: 't', keyId: 'k', model: 'extractive', amountUsd: 5, period: 'month', softPercent: 80 }] },
  intents: { threshold: 0.5, margin: 0.05, userTurns: 3, defaults: { timezone: 'Asia/Shanghai', quietHours: { start: '22:00', end: '08:00' }, dailyCap: 3 }, intents: [{ id: 'hotel_suggest', description: 'hotels', examples: ['I need a hotel'], slots: [], prompt: 'Want hotel ideas near {city}?' }] },
};

function accessAdmin(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const admin = authorization(ctx.adminToken);
  const named = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.keys(configDocuments)) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString') },
    { weight: 1, arbitrary: hostileSegment },
  );
  return fc.oneof(
    {
      weight: 6,
      arbitrary: named.chain((name) =>
        fc.tuple(admin, jsonBody(configDocuments[name] ?? configDocuments['words'] ?? {})).map(([a, b]) =>
          request('access-admin', 'PUT /admin/config/:name', { method: 'PUT', target: `/admin/config/${name}`, headers: [...a, ...b.headers], body: b.body }),
        ),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(admin, named).map(([a, name]) => request('access-admin', 'GET /admin/config/:name', { method: 'GET', target: `/admin/config/${name}`, headers: a })) },
    // Deletions and the history: a version is a number, anything else a 400, an unknown one a 404.
    { weight: 1, arbitrary: fc.tuple(admin, named).map(([a, name]) => request('access-admin', 'DELETE /admin/config/:name', { method: 'DELETE', target: `/admin/config/${name}`, headers: a })) },
    { weight: 1, arbitrary: fc.tuple(admin, named).map(([a, name]) => request('access-admin', 'GET /admin/config/:name/versions', { method: 'GET', target: `/admin/config/${name}/versions`, headers: a })) },
    {
      weight: 2,
      arbitrary: fc.tuple(admin, named, fc.oneof(fc.nat({ max: 50 }).map(String), hostileSegment), fc.boolean()).map(([a, name, version, restore]) =>
        restore
          ? request('access-admin', 'POST /admin/config/:name/versions/:version/restore', { method: 'POST', target: `/admin/config/${name}/versions/${version}/restore`, headers: a })
          : request('access-admin', 'GET /admin/config/:name/versions/:version', { method: 'GET', target: `/admin/config/${name}/versions/${version}`, headers: a }),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(admin, deepJson).map(([a, body]) => request('access-admin', 'PUT /admin/config/:name', { method: 'PUT', target: '/admin/config/routing', headers: [...a, ['content-type', 'application/json']], body: Buffer.from(body) })) },
  );
}

// ---------------------------------------------------------------- knowledge-ingest

const CRLF = '\r\n';

/** Multipart bodies: well-formed, without a boundary, with a wrong one, cut short, with too many parts or hostile names. */
type Body = { headers: [string, string][]; body: Buffer };

function multipart(): fc.Arbitrary<Body> {
  const boundary = 'fuzzboundary7MA4YWxkTrZu0gW';
  const part = (name: string, value: string | Buffer, filename?: string, type = 'text/plain') =>
    Buffer.concat([Buffer.from(`--${boundary}${CRLF}content-disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}${CRLF}${filename === undefined ? '' : `content-type: ${type}${CRLF}`}${CRLF}`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from(CRLF)]);
  const end = Buffer.from(`--${boundary}--${CRLF}`);
  const text = fc.oneof(fc.constant('# Fuzz\n\nWest Lake boats leave every twenty minutes.'), nastyString, fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)));
  return fc.oneof(
    fc.tuple(text, fc.option(fc.oneof(hostileId, nastyString), { nil: undefined }), fc.option(fc.oneof(hostileId, nastyString), { nil: undefined }), fc.constantFrom('text/markdown', 'text/plain', 'text/html', 'application/pdf', 'image/png', '', 'text/markdown\u0000')).map(([content, docId, filename, type]): Body => ({
      headers: [['content-type', `multipart/form-data; boundary=${boundary}`]],
      body: Buffer.concat([...(docId === undefined ? [] : [part('docId', docId)]), part('file', content, filename ?? 'guide.md', type), end]),
    })),
    fc.tuple(fc.constantFrom('docId', 'title', 'mediaType', 'version', 'metadata', 'unknown', '__proto__', 'constructor'), nastyString).map(([name, value]): Body => ({
      headers: [['content-type', `multipart/form-data; boundary=${boundary}`]],
      body: Buffer.concat([part(name, value), part('file', 'text', 'a.txt'), end]),
    })),
    fc.constantFrom<[string, string][]>([['content-type', 'multipart/form-data']], [['content-type', 'multipart/form-data; boundary=']], [['content-type', 'multipart/form-data; boundary=other']], [['content-type', `multipart/form-data; boundary="${boundary}`]], [['content-type', `multipart/form-data; boundary=${'b'.repeat(200)}`]]).map((headers): Body => ({
      headers,
      body: Buffer.concat([part('file', 'text', 'a.txt'), end]),
    })),
    fc.double({ min: 0, max: 1, noNaN: true }).map((cut): Body => {
      const whole = Buffer.concat([part('docId', 'cut'), part('file', 'some text to index', 'a.txt'), end]);
      return { headers: [['content-type', `multipart/form-data; boundary=${boundary}`]], body: whole.subarray(0, Math.floor(whole.length * cut)) };
    }),
    fc.integer({ min: 2, max: 60 }).map((n): Body => ({
      headers: [['content-type', `multipart/form-data; boundary=${boundary}`]],
      body: Buffer.concat([...Array.from({ length: n }, (_, i) => part(i % 2 ? 'file' : `field${i}`, 'x', i % 2 ? `f${i}.txt` : undefined)), end]),
    })),
    fc.constant<Body>({ headers: [['content-type', `multipart/form-data; boundary=${boundary}`]], body: Buffer.concat([part('file', Buffer.alloc(1_200_000, 'a'), 'big.txt'), end]) }),
  );
}

function knowledge(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const auth = authorization(ctx.key);
  const kb = idOr(ctx.kbIds);
  const doc = idOr([ctx.docId]);
  const documentBody = { docId: 'fuzz-doc', title: 'Fuzz', mediaType: 'text/markdown', content: '# Fuzz\n\nWest Lake boats leave every twenty minutes.', version: 'v1', metadata: { source: 'fuzz' } };
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.tuple(auth, jsonBody({ id: 'fuzz-kb', name: 'Fuzz', description: 'made by the fuzz suite', chunkSize: 500, chunkOverlap: 50 })).map(([a, b]) =>
        request('knowledge-ingest', 'POST /v1/knowledge-bases', { method: 'POST', target: '/v1/knowledge-bases', headers: [...a, ...b.headers], body: b.body }),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(auth, query('limit')).map(([a, q]) => request('knowledge-ingest', 'GET /v1/knowledge-bases', { method: 'GET', target: `/v1/knowledge-bases${q}`, headers: a })) },
    // Deleting a base the fuzz uses would leave the rest of the run at 404: only other ids.
    { weight: 1, arbitrary: fc.tuple(auth, fc.constantFrom('GET', 'DELETE'), hostileSegment).map(([a, method, id]) => request('knowledge-ingest', `${method} /v1/knowledge-bases/:kb`, { method, target: `/v1/knowledge-bases/${id}`, headers: a })) },
    { weight: 1, arbitrary: fc.tuple(auth, fc.constantFrom(...ctx.kbIds)).map(([a, id]) => request('knowledge-ingest', 'GET /v1/knowledge-bases/:kb', { method: 'GET', target: `/v1/knowledge-bases/${id}`, headers: a })) },
    { weight: 4, arbitrary: fc.tuple(auth, kb, jsonBody(documentBody)).map(([a, k, b]) => request('knowledge-ingest', 'POST /v1/knowledge-bases/:kb/documents', { method: 'POST', target: `/v1/knowledge-bases/${k}/documents`, headers: [...a, ...b.headers], body: b.body })) },
    { weight: 3, arbitrary: fc.tuple(auth, kb, multipart()).map(([a, k, b]) => request('knowledge-ingest', 'POST /v1/knowledge-bases/:kb/documents (multipart)', { method: 'POST', target: `/v1/knowledge-bases/${k}/documents`, headers: [...a, ...b.headers], body: b.body })) },
    {
      weight: 3,
      arbitrary: fc.tuple(auth, kb, doc, fc.oneof(jsonBody({ title: documentBody.title, mediaType: documentBody.mediaType, content: documentBody.content, version: 'v2' }), multipart())).map(([a, k, d, b]) =>
        request('knowledge-ingest', 'PUT /v1/knowledge-bases/:kb/documents/:doc', { method: 'PUT', target: `/v1/knowledge-bases/${k}/documents/${d}`, headers: [...a, ...b.headers], body: b.body }),
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(auth, fc.constantFrom('GET', 'DELETE'), kb, doc).map(([a, method, k, d]) => request('knowledge-ingest', `${method} /v1/knowledge-bases/:kb/documents/:doc`, { method, target: `/v1/knowledge-bases/${k}/documents/${d}`, headers: a })),
    },
    { weight: 1, arbitrary: fc.tuple(auth, kb).map(([a, k]) => request('knowledge-ingest', 'GET /v1/knowledge-bases/:kb/documents', { method: 'GET', target: `/v1/knowledge-bases/${k}/documents`, headers: a })) },
    {
      weight: 2,
      arbitrary: fc.tuple(auth, kb, jsonBody({ query: 'boats on West Lake', limit: 5, mode: 'hybrid', minScore: 0.1 })).map(([a, k, b]) =>
        request('knowledge-ingest', 'POST /v1/knowledge-bases/:kb/query', { method: 'POST', target: `/v1/knowledge-bases/${k}/query`, headers: [...a, ...b.headers], body: b.body }),
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          auth,
          fc.oneof(nastyString, fc.constantFrom('handbook/guide.md', 'a.md', 'handbook/../../x.md', 'handbook/%2E%2E/a.md', 'a%00.md', 'handbook//a.md', '/a.md', 'handbook/', `${'deep/'.repeat(700)}a.md`, '%ZZ.md', '%ED%A0%80.md')),
          fc.constantFrom('ObjectCreated:Put', 's3:ObjectRemoved:Delete', 'ObjectRestore:Completed', ''),
        )
        .chain(([a, key, eventName]) =>
          jsonBody({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName, s3: { s3SchemaVersion: '1.0', bucket: { name: 'fuzz-docs', arn: 'arn:aws:s3:::fuzz-docs' }, object: { key, size: 12, eTag: '"abc"', sequencer: '0A' } } }] }).map((b) =>
            request('knowledge-ingest', 'POST /v1/notifications/object-store', { method: 'POST', target: '/v1/notifications/object-store', headers: [...a, ...b.headers], body: b.body }),
          ),
        ),
    },
    { weight: 1, arbitrary: anywhere('knowledge-ingest', ['/v1/knowledge-bases', `/v1/knowledge-bases/${ctx.kbIds[0]}/documents`, '/v1/notifications/object-store']) },
  );
}

// ---------------------------------------------------------------- rtc-push

function rtcPush(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const key = authorization(ctx.key);
  const user = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('?user=fuzz-u1', '?user=fuzz-u2') }, { weight: 1, arbitrary: query('user') });
  // Either the key with a user, or a token (real or not) in the query.
  const credentials = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(key, user).map(([headers, q]) => ({ headers, query: q })) },
    { weight: 1, arbitrary: fc.constant({ headers: [] as [string, string | Buffer][], query: `?token=${ctx.realtimeToken}` }) },
    { weight: 1, arbitrary: query('token').map((q) => ({ headers: [] as [string, string | Buffer][], query: q })) },
  );
  const pushIds = fc.oneof(nastyString, fc.constantFrom('0-0', '1-1', '18446744073709551615-18446744073709551615', '18446744073709551616-0', '99999999999999999999-99999999999999999999', `${'9'.repeat(5_000)}-0`, '1-', '-1', '1--1', '01-01'));
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(credentials, fc.option(pushIds, { nil: undefined }), fc.option(pushIds, { nil: undefined })).map(([c, header, q]) =>
        request('rtc-push', 'GET /v1/sse', {
          method: 'GET',
          target: `/v1/sse${c.query}${q === undefined ? '' : `${c.query ? '&' : '?'}lastEventId=${encodeURIComponent(q.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))}`}`,
          headers: [...c.headers, ...(header === undefined ? [] : [['last-event-id', header] as [string, string]])],
        }),
      ),
    },
    { weight: 2, arbitrary: fc.tuple(credentials, jsonBody({ ids: ['1-0', '2-0'] })).map(([c, b]) => request('rtc-push', 'POST /v1/ack', { method: 'POST', target: `/v1/ack${c.query}`, headers: [...c.headers, ...b.headers], body: b.body })) },
    { weight: 1, arbitrary: fc.tuple(credentials, jsonBody({ upTo: '1-0' })).map(([c, b]) => request('rtc-push', 'POST /v1/ack', { method: 'POST', target: `/v1/ack${c.query}`, headers: [...c.headers, ...b.headers], body: b.body })) },
    {
      weight: 4,
      arbitrary: fc.tuple(credentials, jsonBody({ ref: 'c1', text: 'Which sights are in Beijing?', model: 'extractive', sessionId: 'fuzz-s', maxTokens: 64, temperature: 0.3 })).map(([c, b]) =>
        request('rtc-push', 'POST /v1/chat', { method: 'POST', target: `/v1/chat${c.query}`, headers: [...c.headers, ...b.headers], body: b.body, stream: 'end' }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(credentials, jsonBody({ ref: 'c2', messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'hi' }, { role: 'user', content: 'sights?' }] })).map(([c, b]) =>
        request('rtc-push', 'POST /v1/chat', { method: 'POST', target: `/v1/chat${c.query}`, headers: [...c.headers, ...b.headers], body: b.body, stream: 'end' }),
      ),
    },
    // Handshakes: a WebSocket upgrade with broken or missing pieces must get an HTTP answer or a 101.
    {
      weight: 2,
      arbitrary: fc
        .tuple(credentials, fc.constantFrom('13', '8', '', '99999999999', 'a'), fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', '', 'short', '\u0000'), fc.constantFrom('/v1/ws', '/v1/ws/', '/v1/WS', '/v2/ws', '/', '/v1/sse'), fc.option(fc.oneof(nastyString, fc.constantFrom('aip.v1', 'aip.v1, aip.token.x', `aip.token.${ctx.realtimeToken}, aip.v1`)), { nil: undefined }))
        .map(([c, version, wsKey, path, protocol]) =>
          request('rtc-push', 'GET /v1/ws (upgrade)', {
            method: 'GET',
            target: `${path}${c.query}`,
            headers: [...c.headers, ['upgrade', 'websocket'], ['connection', 'Upgrade'], ['sec-websocket-version', version], ['sec-websocket-key', wsKey], ...(protocol === undefined ? [] : [['sec-websocket-protocol', protocol] as [string, string]])],
          }),
        ),
    },
    { weight: 1, arbitrary: anywhere('rtc-push', ['/v1/sse', '/v1/ack', '/v1/chat', '/v1/ws', '/index.html', '/app.js']) },
  );
}

// ---------------------------------------------------------------- intent-scheduler

function intentScheduler(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const auth = authorization(ctx.key);
  const user = fc.oneof({ weight: 1, arbitrary: fc.constant('fuzz-u1') }, { weight: 2, arbitrary: hostileSegment });
  return fc.oneof(
    { weight: 1, arbitrary: fc.tuple(auth, user).map(([a, u]) => request('intent-scheduler', 'GET /v1/users/:userId/proactive-settings', { method: 'GET', target: `/v1/users/${u}/proactive-settings`, headers: a })) },
    {
      weight: 3,
      arbitrary: fc.tuple(auth, user, jsonBody({ timezone: 'Asia/Shanghai', optOut: false, quietHours: { start: '22:00', end: '08:00' } })).map(([a, u, b]) =>
        request('intent-scheduler', 'PUT /v1/users/:userId/proactive-settings', { method: 'PUT', target: `/v1/users/${u}/proactive-settings`, headers: [...a, ...b.headers], body: b.body }),
      ),
    },
    { weight: 1, arbitrary: anywhere('intent-scheduler', ['/v1/users/u/proactive-settings']) },
  );
}

export const requestsFor: Record<AppName, (ctx: FuzzContext) => fc.Arbitrary<FuzzRequest>> = {
  access,
  'access-admin': accessAdmin,
  'knowledge-ingest': knowledge,
  'rtc-push': rtcPush,
  'intent-scheduler': intentScheduler,
};

/** Hostile strings also used by the WebSocket and consumer fuzz. */
export { NASTY_STRINGS };
