import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';
import OpenAI from 'openai';

// Answers grounded on the knowledge base, with real processes: a document uploaded to
// knowledge-ingest is indexed (real embedding model, embedded LanceDB), then a question through
// access → rate-limiter → inference is answered from it and the answer cites it.
const ADMIN_TOKEN = 'e2e-admin-token-knowledge-0123';
const apps: RunningApp[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'aip-rag-'));
let access: string;
let knowledge: string;

const GUIDE = [
  '# Hangzhou travel guide',
  '',
  'West Lake is the heart of Hangzhou. Boats cross the lake from Hubin pier every twenty minutes, and walking the Su Causeway takes about an hour.',
  '',
  'Lingyin Temple, in the hills west of the lake, opens at seven in the morning; the Feilai Feng grottoes are on the way to it.',
].join('\n');

const POLICY = [
  '# Expense policy',
  '',
  'Hotel stays are reimbursed up to 180 euros per night. Receipts must be filed within thirty days of the trip.',
].join('\n');

async function admin(path: string, body: unknown) {
  const response = await fetch(`${access}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as { key: string };
}

async function kb(key: string, path: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(`${knowledge}/v1/knowledge-bases${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined };
}

async function indexed(key: string, kbId: string, docId: string) {
  await eventually(async () => (await kb(key, `/${kbId}/documents/${docId}`)).body?.['status'] === 'indexed', `${docId} to be indexed`, 60_000);
}

beforeAll(async () => {
  const run = uniqueName('e2e-rag');
  // Every topic and group of the contracts in a namespace of this run's own: the four apps talk to
  // each other there, and another run's workers on the shared broker never take these messages.
  const namespace = uniqueNamespace('e2e-rag');
  await provisionNamespace(namespace);
  // knowledge-ingest writes and inference reads the same store and registry.
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX: `${run}:`, LANCEDB_DIR: join(dataDir, 'lancedb') };
  // Apps that did start are stopped in afterAll even when a sibling fails to.
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, WORKER_ID: `${run}-worker` }),
    startApp('knowledge-ingest', { ...shared, KNOWLEDGE_DATA_DIR: join(dataDir, 'uploads') }),
    startApp('access', { ...shared, ADMIN_TOKEN }),
  ]);
  const port = (name: string) => apps.find((app) => app.name === name)!.port;
  access = `http://127.0.0.1:${port('access')}`;
  knowledge = `http://127.0.0.1:${port('knowledge-ingest')}`;
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('answers from the knowledge base', () => {
  it('cites an uploaded document in the answer, streaming and not, and in the task result', async () => {
    const { key } = await admin('/admin/keys', { tenantId: 'acme' });
    expect((await kb(key, '', { method: 'POST', body: { id: 'travel' } })).status).toBe(201);
    expect((await kb(key, '/travel/documents', { method: 'POST', body: { docId: 'hangzhou', title: 'Hangzhou guide', mediaType: 'text/markdown', content: GUIDE } })).status).toBe(202);
    expect((await kb(key, '/travel/documents', { method: 'POST', body: { docId: 'expenses', title: 'Expense policy', mediaType: 'text/markdown', content: POLICY } })).status).toBe(202);
    await indexed(key, 'travel', 'hangzhou');
    await indexed(key, 'travel', 'expenses');

    const client = new OpenAI({ baseURL: `${access}/v1`, apiKey: key, maxRetries: 0 });
    const question = [{ role: 'user' as const, content: 'How often do boats cross West Lake?' }];
    const completion = await client.chat.completions.create({ model: 'extractive', messages: question });
    const answer = completion.choices[0]?.message.content ?? '';
    expect(answer).toContain('every twenty minutes');
    expect(answer).toContain('hangzhou');
    const sources = (completion as unknown as { sources: { kbId: string; docId: string; version: string; position: number; title?: string }[] }).sources;
    expect(sources[0]).toMatchObject({ kbId: 'travel', docId: 'hangzhou', title: 'Hangzhou guide', position: 0 });

    let streamed = '';
    let streamedSources: unknown;
    for await (const chunk of await client.chat.completions.create({ model: 'extractive', messages: question, stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      streamedSources ??= (chunk as unknown as { sources?: unknown }).sources;
    }
    expect(streamed).toBe(answer);
    expect(streamedSources).toEqual(sources);

    const task = (await (await fetch(`${access}/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'extractive', messages: [{ role: 'user', content: 'What is the hotel limit per night?' }] }) })).json()) as { id: string };
    let result: { status?: string; result?: string; sources?: { docId: string }[] } = {};
    await eventually(async () => {
      result = (await (await fetch(`${access}/v1/tasks/${task.id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as typeof result;
      return result.status === 'completed';
    }, 'the task to complete', 30_000);
    expect(result.result).toContain('180 euros');
    expect(result.sources?.[0]?.docId).toBe('expenses');
  }, 120_000);

  it('answers only from the knowledge bases named in the request, and never from another tenant', async () => {
    const { key: acme } = await admin('/admin/keys', { tenantId: 'acme-2' });
    const { key: globex } = await admin('/admin/keys', { tenantId: 'globex' });
    expect((await kb(acme, '', { method: 'POST', body: { id: 'travel' } })).status).toBe(201);
    expect((await kb(acme, '', { method: 'POST', body: { id: 'finance' } })).status).toBe(201);
    await kb(acme, '/travel/documents', { method: 'POST', body: { docId: 'hangzhou', mediaType: 'text/markdown', content: GUIDE } });
    await kb(acme, '/finance/documents', { method: 'POST', body: { docId: 'expenses', mediaType: 'text/markdown', content: POLICY } });
    await indexed(acme, 'travel', 'hangzhou');
    await indexed(acme, 'finance', 'expenses');

    const ask = async (key: string, extra: Record<string, unknown> = {}) => {
      const response = await fetch(`${access}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'extractive', messages: [{ role: 'user', content: 'How much is a hotel night reimbursed?' }], ...extra }),
      });
      return (await response.json()) as { choices: { message: { content: string } }[]; sources?: { kbId: string }[] };
    };
    expect((await ask(acme)).sources?.[0]?.kbId).toBe('finance');
    const travelOnly = await ask(acme, { knowledge_bases: ['travel'] });
    // Sources are only the passages the answer used (none, when nothing in the guide matches).
    expect((travelOnly.sources ?? []).every((source) => source.kbId === 'travel')).toBe(true);
    expect(travelOnly.choices[0]?.message.content).not.toContain('180 euros');
    const none = await ask(acme, { knowledge_bases: [] });
    expect(none.sources).toBeUndefined();
    // Another tenant with a knowledge base of the same name finds nothing of acme's.
    expect((await kb(globex, '', { method: 'POST', body: { id: 'finance' } })).status).toBe(201);
    const other = await ask(globex);
    expect(other.sources).toBeUndefined();
    expect(other.choices[0]?.message.content).not.toContain('180 euros');
  }, 120_000);
});
