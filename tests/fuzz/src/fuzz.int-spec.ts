// Over 400 lines on purpose: the whole platform starts once for the HTTP, WebSocket and consumer
// fuzzers and the checks after them, which must see the same running apps.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CONSUMER_GROUPS, createEnvelope, fifoGroupOf, namespaced, TOPICS } from '@aip/contracts';
import { dlqList } from '@aip/rocketmq-local/dlq';
import { createKey, eventually, provisionNamespace, type RunningApp, startApps, startApp, stopApp, testConnection, uniqueName, uniqueNamespace } from '@aip/testing';
import { Producer } from 'rocketmq-client-nodejs';
import WebSocket from 'ws';
import { consumerTargets, describePoison, poisonFor, type PoisonMessage } from './consumer-fuzz.ts';
import { Figures } from './figures.ts';
import { encodeRequest, sendRaw, type RawResponse } from './raw-http.ts';
import { describeRequest, requestsFor, type AppName, type FuzzContext, type FuzzRequest } from './targets.ts';
import { WellBehavedClient } from './well-behaved.ts';
import { describeSession, runSession, wsSession, wsViolation, type WsSession } from './ws-fuzz.ts';

// The fuzz suite (issue 11): property-based hostile requests against every HTTP app, the realtime
// WebSocket protocol and every consumer, on real processes, the real broker and Redis. Properties:
// no response is a 5xx, every request is answered within the client timeout, every process stays
// up, a well-behaved client on the same instances keeps working during and after, and poison
// messages are dead-lettered while the consumers go on.
//
// Size: FUZZ_RUNS HTTP requests in all (default 1,500; `npm run fuzz` runs 10,000), split over the
// apps, plus WebSocket sessions and poison messages in proportion. FUZZ_SEED replays a run.

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1_500);
const SEED = Number(process.env['FUZZ_SEED'] ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0);
const TIMEOUT_MS = Number(process.env['FUZZ_TIMEOUT_MS'] ?? 20_000);
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
/** Share of the HTTP requests per app; floods (bursts of concurrent requests) take the rest. */
const SHARES: Record<AppName, number> = { access: 0.36, 'access-admin': 0.08, 'knowledge-ingest': 0.22, 'rtc-push': 0.18, 'intent-scheduler': 0.06 };
const FLOOD_SHARE = 0.1;
/** Request bodies each app accepts at most (as configured below). */
const BODY_LIMITS: Record<AppName, number> = { access: 1_048_576, 'access-admin': 1_048_576, 'knowledge-ingest': 1_048_576, 'rtc-push': 65_536, 'intent-scheduler': 1_048_576 };
const FLOOD_SIZE = 30;
const WS_SESSIONS = Math.max(20, Math.round(RUNS / 15));
const POISON_MESSAGES = Math.max(24, Math.round(RUNS / 40));
/**
 * How long one property may run, shrinking included (a hang costs the whole client timeout at each
 * shrinking step): past it fast-check stops and reports the smallest counterexample so far.
 */
const timeLimit = (runs: number) => 60_000 + runs * 400;
/** Jest's timeout for a test running properties of `runs` runs in all. */
const testTimeout = (runs: number) => timeLimit(runs) + 120_000;

const log = (line: string) => process.stderr.write(`[fuzz] ${line}\n`);
const figures = new Figures();
const apps: RunningApp[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'aip-fuzz-'));
const run = uniqueName('fuzz');
/**
 * Every topic and group of the run is its own: the contracts' topology in two namespaces. The
 * platform's apps share `platform`; intent-scheduler is alone in `intent`, so it sees only what this
 * suite sends it (not the run's chat traffic), and the prompts it publishes reach no rtc-push.
 */
const namespaces = { platform: uniqueNamespace('fuzz'), intent: uniqueNamespace('fuzz-intent') };
/** The broker's names this suite sends to or reads the metrics of. */
const owned = {
  kbGroup: namespaced(namespaces.platform, CONSUMER_GROUPS.knowledgeIngest.name),
  pushTopic: namespaced(namespaces.platform, TOPICS.rtcPush.name),
  pushGroup: namespaced(namespaces.platform, CONSUMER_GROUPS.rtcPush.name),
  intentGroup: namespaced(namespaces.intent, CONSUMER_GROUPS.intentScheduler.name),
  intentRequestTopic: namespaced(namespaces.intent, TOPICS.aiRequest.name),
};
const ports = {} as Record<AppName | 'rate-limiter' | 'inference', number>;
let ctx: FuzzContext;
let goodKey: string;
let wellBehaved: WellBehavedClient;

const url = (app: AppName) => `http://127.0.0.1:${ports[app]}`;

/** Every app process is still running (a crash is a failure whatever the answers were). */
function deadApps(): string[] {
  return apps.filter((app) => app.process.exitCode !== null || app.process.signalCode !== null).map((app) => `${app.name} exited (${app.process.exitCode ?? app.process.signalCode}):\n${app.output.join('').slice(-3_000)}`);
}

/** Server failures a client sees inside a 200 event stream: an error chunk or frame that is the server's fault. */
function streamFailure(request: FuzzRequest, response: RawResponse): string | undefined {
  if (!response.headers['content-type']?.startsWith('text/event-stream')) return undefined;
  for (const line of response.body.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    let event: { type?: string; code?: string; error?: { type?: string; code?: string } };
    try {
      event = JSON.parse(line.slice(6)) as typeof event;
    } catch {
      continue;
    }
    if (event.error && (event.error.type === 'api_error' || event.error.type === 'service_unavailable')) return `error chunk in the stream: ${line.slice(0, 300)}`;
    if (event.type === 'error' && ['internal', 'unavailable', 'service_unavailable'].includes(event.code ?? '')) return `error frame in the stream: ${line.slice(0, 300)}`;
  }
  if (response.streamUnfinished && request.raw.stream === 'end') return `the event stream did not end within ${TIMEOUT_MS} ms`;
  return undefined;
}

/** What is wrong with one answer, if anything. */
function violation(request: FuzzRequest, response: RawResponse): string | undefined {
  if (response.outcome === 'timeout') return `no answer within ${TIMEOUT_MS} ms`;
  if (response.outcome === 'closed') {
    // A server that refuses a request head over Node's 16 KiB or a body over its limit closes at once;
    // a client still writing then sees a reset instead of the 431/413 (TCP drops what it had not read).
    const head = encodeRequest({ ...request.raw, body: undefined }).length;
    const refusedBySize = head > 16 * 1024 || (request.raw.body?.length ?? 0) > BODY_LIMITS[request.app];
    if (refusedBySize && /EPIPE|ECONNRESET/.test(response.error ?? '')) return undefined;
    return `the server closed the connection without an answer${response.error ? ` (${response.error})` : ''}`;
  }
  if (response.status < 100) return `not an HTTP answer: ${JSON.stringify(response.body.slice(0, 200))}`;
  if (response.status >= 500) return `${response.status} ${response.body.slice(0, 500)} (x-request-id ${response.headers['x-request-id'] ?? '-'})`;
  return streamFailure(request, response);
}

async function send(request: FuzzRequest): Promise<void> {
  const response = await sendRaw(ports[request.app], request.raw, TIMEOUT_MS);
  figures.record(request, response);
  const problem = violation(request, response) ?? deadApps()[0];
  if (problem) throw new Error(`${request.route}: ${problem}\n  request: ${describeRequest(request)}`);
}

/** A failure's kind: its first line with numbers and quoted text blanked, so one bug counts once. */
const kindOf = (message: string) => (message.split('\n')[0] ?? '').replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N').slice(0, 160);
/** Distinct failures replayed and shrunk per property, at most. */
const MAX_SHRUNK = 4;

/**
 * Runs a property with its own seed (printed). It does not stop at the first failure: every run is
 * made (so one run finds every bug and the figures are whole), and the first failure of each kind
 * is then replayed from its seed and path and shrunk by fast-check; the shrunk counterexamples,
 * with the seed and path that replay them, are the error.
 */
async function check<T>(name: string, arbitrary: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => Promise<void>, offset: number): Promise<void> {
  const seed = (SEED + offset) | 0;
  log(`${name}: ${numRuns} runs, seed ${seed}`);
  let index = -1;
  const failures = new Map<string, { index: number; message: string; count: number }>();
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (value) => {
      index++;
      try {
        await predicate(value);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const kind = kindOf(message);
        const seen = failures.get(kind);
        if (seen) seen.count++;
        else failures.set(kind, { index, message, count: 1 });
      }
    }),
    { numRuns, seed, interruptAfterTimeLimit: timeLimit(numRuns), markInterruptAsFailure: false },
  );
  if (details.interrupted) log(`${name}: stopped at the time limit after ${details.numRuns} of ${numRuns} runs`);
  if (failures.size === 0) return;
  const reports: string[] = [];
  for (const [kind, failure] of [...failures].slice(0, MAX_SHRUNK)) {
    figures.violations.push(`${name}: ${kind} (${failure.count}×)`);
    // Shrinking re-sends requests (a hang costs the whole timeout at each step): it stops at a time
    // limit and reports the smallest counterexample found so far.
    const replay = await fc.check(fc.asyncProperty(arbitrary, predicate), { seed, path: String(failure.index), numRuns: 1, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: false });
    const report = replay.failed ? (fc.defaultReportMessage(replay) ?? '') : `(did not fail again on replay; first seen as)\n${failure.message}`;
    reports.push(`${kind} — ${failure.count}× — replay: FUZZ_SEED=${SEED} (property seed ${seed}, path ${replay.counterexamplePath ?? failure.index})\n${report}`);
  }
  if (failures.size > MAX_SHRUNK) reports.push(`…and ${failures.size - MAX_SHRUNK} more kinds: ${[...failures.keys()].slice(MAX_SHRUNK).join(' | ')}`);
  const text = `${name}: ${failures.size} kind(s) of failure (FUZZ_SEED=${SEED})\n\n${reports.join('\n\n')}`;
  log(text);
  throw new Error(text);
}

beforeAll(async () => {
  log(`FUZZ_RUNS=${RUNS} FUZZ_SEED=${SEED} (set FUZZ_SEED to replay this run)`);
  await provisionNamespace(namespaces.platform);
  await provisionNamespace(namespaces.intent);
  mkdirSync(join(dataDir, 'object-store', 'fuzz-docs'), { recursive: true });
  const shared = { ROCKETMQ_NAMESPACE: namespaces.platform, REDIS_PREFIX: `${run}:`, LANCEDB_DIR: join(dataDir, 'lancedb') };
  const started = await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, WORKER_ID: `${run}-worker`, INFERENCE_SLOTS: '8' }),
    startApp('access', { ...shared, ADMIN_TOKEN, IP_RATE_LIMIT: '0' }),
    // PUT /admin/config is fuzzed on an instance of its own (own Redis prefix): a mutation may be a
    // valid document, and a routing document without `extractive` is a legitimate change that
    // would take the model away from the well-behaved client.
    startApp('access', { ROCKETMQ_NAMESPACE: namespaces.platform, REDIS_PREFIX: `${run}-admin:`, ADMIN_TOKEN, IP_RATE_LIMIT: '0' }),
    startApp('knowledge-ingest', {
      ...shared,
      KNOWLEDGE_DATA_DIR: join(dataDir, 'uploads'),
      OBJECT_STORE_DIR: join(dataDir, 'object-store'),
      OBJECT_STORE_MAPPINGS: JSON.stringify([{ bucket: 'fuzz-docs', prefix: 'handbook/', tenantId: 'fuzz', kbId: 'kb1' }, { bucket: 'fuzz-docs', prefix: '', tenantId: 'fuzz', kbId: 'kb2' }]),
      MAX_JSON_BYTES: String(1_048_576),
      MAX_UPLOAD_BYTES: String(1_048_576),
      IP_RATE_LIMIT: '0',
    }),
    startApp('rtc-push', { ...shared, RTC_INSTANCE_ID: `${run}-rtc`, IP_RATE_LIMIT: '0' }),
    startApp('intent-scheduler', { ...shared, ROCKETMQ_NAMESPACE: namespaces.intent }),
  ]);
  const [limiter, inference, access, accessAdmin, knowledge, rtc, intent] = started;
  Object.assign(ports, { 'rate-limiter': limiter.port, inference: inference.port, access: access.port, 'access-admin': accessAdmin.port, 'knowledge-ingest': knowledge.port, 'rtc-push': rtc.port, 'intent-scheduler': intent.port });

  // Two tenants: the fuzz's, and the well-behaved client's, which the fuzz has no key of.
  const generous = { id: 'fuzz-generous', requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000, maxConcurrent: 256 };
  const fuzzKey = (await createKey(access, ADMIN_TOKEN, { tenantId: 'fuzz', models: [], policy: generous })).key;
  goodKey = (await createKey(access, ADMIN_TOKEN, { tenantId: 'good', models: [], policy: { ...generous, id: 'good-generous' } })).key;
  const json = async (app: AppName, path: string, key: string, body: unknown, method = 'POST') => {
    const response = await fetch(`${url(app)}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, string>;
  };
  for (const id of ['kb1', 'kb2']) await json('knowledge-ingest', '/v1/knowledge-bases', fuzzKey, { id });
  await json('knowledge-ingest', '/v1/knowledge-bases', goodKey, { id: 'good-kb' });
  await json('knowledge-ingest', '/v1/knowledge-bases/kb1/documents', fuzzKey, { docId: 'fuzz-doc', mediaType: 'text/markdown', content: '# Fuzz\n\nWest Lake boats leave every twenty minutes.' });
  const taskIds = [];
  for (let i = 0; i < 2; i++) taskIds.push((await json('access', '/v1/tasks', fuzzKey, { model: 'extractive', messages: [{ role: 'user', content: `task ${i}` }] })).id!);
  // Their event streams replay and end: a stream of a finished task that does not end is a hang.
  for (const id of taskIds) await eventually(async () => ['completed', 'failed', 'rejected', 'cancelled'].includes(((await (await fetch(`${url('access')}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${fuzzKey}` } })).json()) as { status: string }).status), `task ${id} to finish`, 60_000);
  const realtimeToken = (await json('access', '/v1/realtime/tokens', fuzzKey, { user: 'fuzz-u1', ttlSeconds: 3_600 })).token!;
  ctx = { adminToken: ADMIN_TOKEN, key: fuzzKey, taskIds, kbIds: ['kb1', 'kb2'], docId: 'fuzz-doc', realtimeToken };

  wellBehaved = new WellBehavedClient({ access: url('access'), accessAdmin: url('access-admin'), knowledge: url('knowledge-ingest'), rtcPush: url('rtc-push'), intentScheduler: url('intent-scheduler'), adminToken: ADMIN_TOKEN, key: goodKey, kbId: 'good-kb' }, figures);
  // Before any fuzz: the client works at all (otherwise a failure later would say nothing).
  await wellBehaved.connect();
  expect(await wellBehaved.round()).toEqual([]);
  wellBehaved.start();
}, 300_000);

afterAll(async () => {
  await wellBehaved?.stop();
  wellBehaved?.close();
  log(`\n${figures.report()}\nFUZZ_SEED=${SEED}`);
  await Promise.all(apps.map(stopApp));
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const httpApps = Object.keys(SHARES) as AppName[];

describe('hostile HTTP requests', () => {
  it.each(httpApps)('%s answers every one without a 5xx, within the timeout, and stays up', async (app) => {
    const runs = Math.max(10, Math.round(RUNS * SHARES[app]));
    await check(`HTTP ${app}`, requestsFor[app](ctx), runs, send, httpApps.indexOf(app));
  }, testTimeout(RUNS));

  it('floods: bursts of concurrent hostile requests to each app, all answered without a 5xx', async () => {
    const bursts = Math.max(4, Math.round((RUNS * FLOOD_SHARE) / FLOOD_SIZE));
    // Not shrunk: the failing request of a burst is named in the error, and alone it is what the
    // single-request properties above shrink anyway.
    const burst = fc.noShrink(fc.constantFrom(...httpApps).chain((app) => fc.array(requestsFor[app](ctx), { minLength: FLOOD_SIZE, maxLength: FLOOD_SIZE })));
    await check('HTTP floods', burst, bursts, async (requests) => {
      const results = await Promise.allSettled(requests.map(send));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }, 10);
  }, testTimeout(RUNS * FLOOD_SHARE));

  it('PUT and GET /admin/config/{__proto__,constructor,toString} are 404, not a 500 or a phantom document (regression)', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      for (const method of ['PUT', 'GET']) {
        const response = await fetch(`${url('access-admin')}/admin/config/${name}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, ...(method === 'PUT' ? { body: JSON.stringify({ words: ['x'] }) } : {}) });
        expect({ name, method, status: response.status }).toEqual({ name, method, status: 404 });
        expect(((await response.json()) as { error: unknown }).error).toMatchObject({ type: 'not_found_error' });
      }
    }
  });
});

describe('the realtime WebSocket protocol', () => {
  it('answers hostile frames (unknown types, bad JSON, binary, oversized, floods) with error frames or protocol closes, never an internal error or a hang', async () => {
    await check('WebSocket', wsSession.map((session) => Object.assign(session, { [fc.toStringMethod]: () => describeSession(session) }) as WsSession), WS_SESSIONS, async (session) => {
      const outcome = await runSession(ports['rtc-push'], session, { key: ctx.key, token: ctx.realtimeToken }, TIMEOUT_MS);
      figures.ws.sessions++;
      figures.ws.framesSent += outcome.framesSent;
      figures.count(figures.ws.closeCodes, outcome.handshakeStatus ? `http-${outcome.handshakeStatus}` : String(outcome.closeCode ?? 'open'));
      for (const frame of outcome.received) if (frame.type === 'error') figures.count(figures.ws.errorCodes, frame.code ?? '?');
      const problem = wsViolation(session, outcome) ?? deadApps()[0];
      if (problem) throw new Error(problem);
    }, 20);
  }, testTimeout(WS_SESSIONS * 4));
});

describe('poison messages on every consumed topic', () => {
  it('are dead-lettered at once, and every consumer goes on with the valid messages behind them', async () => {
    const targets = consumerTargets(namespaces, { kbMessageGroup: fifoGroupOf('kb1', 'fuzz-doc-ok'), pushUser: 'fuzz-ws-1' });
    const producer = new Producer({ endpoints: testConnection().endpoints, namespace: '', logger: { info() {}, warn() {}, error() {} } as never });
    await producer.startup();
    const sent: { messageId: string; message: PoisonMessage; index: number }[] = [];
    const key = `${run}-poison`;
    const publish = async (message: PoisonMessage, index: number) => {
      const receipt = await producer.send({ topic: message.target.topic, tag: message.target.tag, keys: [key], body: message.body, ...(message.messageGroup ? { messageGroup: message.messageGroup } : {}) });
      sent.push({ messageId: receipt.messageId, message, index });
      const name = `${message.target.topic}/${message.target.tag}`;
      figures.consumers.set(name, { sent: (figures.consumers.get(name)?.sent ?? 0) + 1, deadLettered: figures.consumers.get(name)?.deadLettered ?? 0 });
    };
    const poison = poisonFor(targets).map((message) => Object.assign(message, { [fc.toStringMethod]: () => describePoison(message) }));
    const problems: string[] = [];
    try {
      // All messages first, then one look at the dead-letter queues for the lot; the first missing
      // message of each kind is then replayed alone (same seed and path) and shrunk.
      const seed = (SEED + 30) | 0;
      log(`consumers: ${POISON_MESSAGES} poison messages, seed ${seed}`);
      let index = -1;
      await fc.check(fc.asyncProperty(poison, (message) => publish(message, ++index)), { numRuns: POISON_MESSAGES, seed });
      const missing = await awaitDeadLetters(sent);
      if (missing.length) {
        const kinds = new Map<string, (typeof missing)[number]>();
        for (const m of missing) kinds.set(`${m.message.target.topic}/${m.message.target.tag}`, kinds.get(`${m.message.target.topic}/${m.message.target.tag}`) ?? m);
        const reports: string[] = [];
        for (const [kind, first] of [...kinds].slice(0, 2)) {
          const replay = await fc.check(
            fc.asyncProperty(poison, async (message) => {
              const before = sent.length;
              await publish(message, -1);
              if ((await awaitDeadLetters(sent.slice(before), 20_000)).length) throw new Error(`not dead-lettered within 20 s: ${describePoison(message)}`);
            }),
            { seed, path: String(first.index), numRuns: 1, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: false },
          );
          reports.push(`${kind} — replay: FUZZ_SEED=${SEED} (consumer seed ${seed}, path ${replay.counterexamplePath ?? first.index})\n${replay.failed ? fc.defaultReportMessage(replay) : `(dead-lettered on replay) ${describePoison(first.message)}`}`);
        }
        const byTarget = [...new Set(missing.map((m) => `${m.message.target.topic}/${m.message.target.tag}`))].map((t) => `${t}: ${missing.filter((m) => `${m.message.target.topic}/${m.message.target.tag}` === t).length} of ${sent.filter((s) => `${s.message.target.topic}/${s.message.target.tag}` === t).length}`);
        problems.push(`${missing.length} poison message(s) were not dead-lettered within 60 s (${byTarget.join(', ')}):\n${reports.join('\n\n')}`);
        figures.violations.push(`consumers: ${missing.length} poison messages not dead-lettered (${byTarget.join(', ')})`);
      } else {
        // The groups of this run see every message: their transports counted them as dead-lettered (reason schema).
        for (const [app, group] of [['knowledge-ingest', owned.kbGroup], ['rtc-push', owned.pushGroup], ['intent-scheduler', owned.intentGroup]] as const) {
          const expected = sent.filter((s) => s.message.target.group === group).length;
          const metrics = await (await fetch(`${url(app)}/metrics`)).text();
          const counted = metrics
            .split('\n')
            .filter((line) => line.startsWith('aip_messaging_dead_lettered_total{') && line.includes(`group="${group}"`) && line.includes('reason="schema"'))
            .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
          if (counted !== expected) {
            // What the app said about each message it dead-lettered: a duplicate, or one this phase never sent.
            const said = apps.filter((a) => a.name === app).flatMap((a) => a.output.join('').split('\n')).filter((line) => line.includes('dead-lettering'));
            problems.push(`${app} counted ${counted} dead letters (reason schema) of group ${group}, ${expected} were sent:\n${said.join('\n')}`);
          }
        }
      }
      const behind = async (what: string, step: () => Promise<void>) => step().catch((error: unknown) => void problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`));

      // Valid messages behind the poison, on the same FIFO message groups: the consumers go on.
      await behind('a document behind the poison in its FIFO group', async () => {
        await fetch(`${url('knowledge-ingest')}/v1/knowledge-bases/kb1/documents`, { method: 'POST', headers: { authorization: `Bearer ${ctx.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ docId: 'fuzz-doc-ok', mediaType: 'text/plain', content: 'Still indexed after the poison.' }) });
        await eventually(async () => ((await (await fetch(`${url('knowledge-ingest')}/v1/knowledge-bases/kb1/documents/fuzz-doc-ok`, { headers: { authorization: `Bearer ${ctx.key}` } })).json()) as { status?: string }).status === 'indexed', 'fuzz-doc-ok to be indexed behind the poison', 60_000);
      });
      await behind('a push behind the poison in its FIFO group', async () => {
        const pushes = await receivePush('fuzz-ws-1', async () => {
          const notice = createEnvelope('rtc.push.notice', { userId: 'fuzz-ws-1', title: 'After the poison', text: 'still delivered' }, { source: 'fuzz', tenantId: 'fuzz' });
          await producer.send({ topic: owned.pushTopic, tag: 'notice', messageGroup: 'fuzz-ws-1', body: Buffer.from(JSON.stringify(notice)) });
        });
        if (!pushes.includes('still delivered')) throw new Error(`not delivered within 30 s (received: ${JSON.stringify(pushes)})`);
      });
      await behind('intent-scheduler handling a valid event behind the poison', async () => {
        const submitted = createEnvelope('ai.request.submitted', { taskId: `${run}-t`, apiKeyId: 'k', userId: 'fuzz-u1', sessionId: `${run}-s`, model: 'extractive', messages: [{ role: 'user', content: 'hi' }], maxTokens: 16, stream: false, deadline: new Date(Date.now() + 60_000).toISOString(), estimatedPromptTokens: 1 }, { source: 'fuzz', tenantId: 'fuzz' });
        const acked = async () => (await (await fetch(`${url('intent-scheduler')}/metrics`)).text()).split('\n').filter((l) => l.startsWith('aip_messaging_acked_total{') && l.includes(`group="${owned.intentGroup}"`)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
        const before = await acked();
        await producer.send({ topic: owned.intentRequestTopic, tag: 'submitted', body: Buffer.from(JSON.stringify(submitted)) });
        await eventually(async () => (await acked()) > before, 'intent-scheduler to handle a valid event behind the poison', 30_000);
      });
      // rate-limiter and inference: a whole chat completion goes through them.
      await behind('a chat completion after the poison', async () => {
        const failures = await wellBehaved.round();
        if (failures.length) throw new Error(failures.join('; '));
      });
      if (problems.length) {
        log(`consumers FAILED:\n${problems.join('\n\n')}`);
        throw new Error(problems.join('\n\n'));
      }
    } finally {
      await producer.shutdown();
    }
  }, testTimeout(POISON_MESSAGES * 10));
});

describe('after the fuzz', () => {
  it('every process is up, every app is ready, and the well-behaved client stayed OK throughout and still works', async () => {
    expect(deadApps()).toEqual([]);
    for (const app of apps) expect({ app: app.name, status: (await fetch(`${app.url}/health/ready`)).status }).toEqual({ app: app.name, status: 200 });
    await wellBehaved.stop();
    expect(await wellBehaved.round()).toEqual([]);
    expect(figures.wellBehaved.failures).toEqual([]);
  }, 120_000);
});

/** Waits until every sent message is in its group's dead-letter queue; returns those that are not. */
async function awaitDeadLetters<S extends { messageId: string; message: PoisonMessage }>(sent: S[], timeoutMs = 60_000): Promise<S[]> {
  const groups = [...new Set(sent.map((s) => s.message.target.group))];
  const deadline = Date.now() + timeoutMs;
  let missing = sent;
  while (missing.length && Date.now() < deadline) {
    const dead = new Set<string>();
    for (const group of groups) for (const entry of await dlqList(group, { limit: 5_000 }).catch(() => [])) dead.add(entry.messageId);
    for (const s of missing.filter((m) => dead.has(m.messageId))) {
      const name = `${s.message.target.topic}/${s.message.target.tag}`;
      const entry = figures.consumers.get(name);
      if (entry) entry.deadLettered++;
    }
    missing = missing.filter((s) => !dead.has(s.messageId));
    if (missing.length) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return missing;
}

/** Connects as `user`, runs `action`, and returns the texts of the pushes received within 30 s. */
async function receivePush(user: string, action: () => Promise<void>): Promise<string[]> {
  const socket = new WebSocket(`ws://127.0.0.1:${ports['rtc-push']}/v1/ws?user=${user}`, { headers: { authorization: `Bearer ${ctx.key}` } });
  const texts: string[] = [];
  const welcomed = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; text?: string; id?: string };
      if (frame.type === 'welcome') resolve();
      if (frame.type === 'push') {
        texts.push(frame.text ?? '');
        socket.send(JSON.stringify({ type: 'ack', ids: [frame.id] }));
      }
    });
  });
  socket.once('open', () => socket.send(JSON.stringify({ type: 'hello', v: 1 })));
  await welcomed;
  await action();
  await eventually(async () => texts.includes('still delivered'), `a push to ${user} behind the poison`, 30_000).catch(() => undefined);
  socket.close(1000);
  return texts;
}
