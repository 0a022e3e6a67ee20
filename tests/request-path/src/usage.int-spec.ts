import { createKey, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';

// The usage ledger end to end: real access, rate-limiter and inference processes on the real
// broker and Redis; access writes one row per request's end (group usage-ledger) into its
// embedded PGlite. What an operator and a key holder notice: requests, tokens and cost per model
// as the answers reported them, priced from the routing document; one tenant never sees
// another's; CSV for the spreadsheet; mistakes named.
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const namespace = uniqueNamespace('e2e-usage');
const REDIS_PREFIX = `${uniqueName('e2e-usage')}:`;
// $3 per million prompt tokens, $15 per million completion tokens.
const PRICE = { input: 3, output: 15 };
const apps: RunningApp[] = [];
let access: RunningApp;
let llm: MockLlm;
let acme: { key: string; id: string };
let globex: { key: string; id: string };

const get = (path: string, token: string) => fetch(`${access.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

async function chat(key: string, content: string) {
  const response = await fetch(`${access.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content }] }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
}

beforeAll(async () => {
  await provisionNamespace(namespace);
  llm = await startMockLlm({ reply: 'Twelve words of answer, give or take a few, for the ledger.' });
  const routing = JSON.stringify({ models: { 'mock-gpt': { providers: [{ name: 'mock', kind: 'openai-compatible', baseUrl: llm.url, model: 'gpt-y', firstTokenTimeoutMs: 5_000, price: PRICE }] } } });
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX, MODEL_ROUTING: routing };
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, INFERENCE_SLOTS: '4', WORKER_ID: uniqueName('worker') }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'mock-gpt' }),
  ]);
  access = apps.find((app) => app.name === 'access')!;
  [acme, globex] = await Promise.all([createKey(access, ADMIN_TOKEN, { tenantId: 'acme', models: ['mock-gpt'] }), createKey(access, ADMIN_TOKEN, { tenantId: 'globex', models: ['mock-gpt'] })]);
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await llm?.close();
});

describe('usage ledger', () => {
  it("records each answer's tokens and cost, and a key sees its own usage by model", async () => {
    const usages = [await chat(acme.key, 'first question'), await chat(acme.key, 'a second, somewhat longer question')];
    const prompt = usages.reduce((sum, u) => sum + u.prompt_tokens, 0);
    const completion = usages.reduce((sum, u) => sum + u.completion_tokens, 0);
    const cost = (prompt * PRICE.input + completion * PRICE.output) / 1e6;
    await chat(globex.key, 'globex asks once');

    let report: { object: string; group_by: string[]; data: Record<string, unknown>[] } | undefined;
    await eventually(async () => {
      const response = await get('/v1/usage?group_by=model', acme.key);
      report = (await response.json()) as typeof report;
      return response.status === 200 && report?.data[0]?.['requests'] === 2;
    }, 'two acme requests in the ledger', 30_000);
    expect(report).toMatchObject({ object: 'usage_report', group_by: ['model'] });
    expect(report!.data).toEqual([
      expect.objectContaining({ model: 'mock-gpt', requests: 2, failed: 0, promptTokens: prompt, completionTokens: completion, cost: expect.closeTo(cost, 9) }),
    ]);
    expect(report!.data[0]!['firstTokenMsP50']).toEqual(expect.any(Number));

    // Globex's key sees its one request, never acme's two.
    await eventually(async () => ((await (await get('/v1/usage?group_by=model', globex.key)).json()) as { data: { requests: number }[] }).data[0]?.requests === 1, 'the globex request in the ledger', 30_000);
    const theirs = (await (await get('/v1/usage?group_by=model,provider', globex.key)).json()) as { data: Record<string, unknown>[] };
    expect(theirs.data).toEqual([expect.objectContaining({ model: 'mock-gpt', provider: 'mock', requests: 1 })]);
  });

  it('gives operators every tenant by tenant and model, as CSV too', async () => {
    const admin = (await (await get('/admin/usage?group_by=tenant,model', ADMIN_TOKEN)).json()) as { data: Record<string, unknown>[] };
    expect(admin.data.filter((line) => line['tenant'] === 'acme' || line['tenant'] === 'globex').map((line) => [line['tenant'], line['model'], line['requests']])).toEqual([
      ['acme', 'mock-gpt', 2],
      ['globex', 'mock-gpt', 1],
    ]);
    const csv = await get('/admin/usage?group_by=tenant&tenant_id=acme&format=csv', ADMIN_TOKEN);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, row, end] = (await csv.text()).split('\r\n');
    expect(header).toBe('tenant,requests,failed,promptTokens,completionTokens,cachedTokens,cost,firstTokenMsP50,durationMsP50');
    expect(row).toMatch(/^acme,2,0,\d+,\d+,\d+,0\.\d+,\d+(\.\d+)?,\d+(\.\d+)?$/);
    expect(end).toBe('');
    // The admin report is the admin's: an API key is not enough.
    expect((await get('/admin/usage', acme.key)).status).toBe(401);
  });

  it('names a bad window, grouping or format (400), and refuses a request without a key (401)', async () => {
    const cases: [string, string][] = [
      ['/v1/usage?group_by=tenant', 'group_by'],
      ['/v1/usage?group_by=day,hour', 'group_by'],
      ['/v1/usage?from=yesterday', 'from'],
      ['/v1/usage?from=2026-12-02&to=2026-12-01', 'from'],
      ['/v1/usage?from=2020-01-01&to=2026-01-01', 'from'],
    ];
    for (const [path, param] of cases) {
      const response = await get(path, acme.key);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_value', param } });
    }
    const format = await get('/admin/usage?format=xml', ADMIN_TOKEN);
    expect(format.status).toBe(400);
    expect((await fetch(`${access.url}/v1/usage`)).status).toBe(401);
  });
});
