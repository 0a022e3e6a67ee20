import { createKey, deleteKeys, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, testRedis, uniqueName, uniqueNamespace } from '@aip/testing';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import pg from 'pg';

// The usage ledger end to end: real access, rate-limiter and inference processes on the real
// broker and Redis; access writes one row per request's end (group usage-ledger) into its
// PostgreSQL (this machine's, a database made for the run; every other suite's access runs the
// embedded PGlite, and libs/usage tests the same ledger on both). What an operator and a key holder notice: requests, tokens and cost per model
// as the answers reported them, priced from the routing document; one tenant never sees
// another's; CSV for the spreadsheet; mistakes named.
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const namespace = uniqueNamespace('e2e-usage');
const REDIS_PREFIX = `${uniqueName('e2e-usage')}:`;
// $3 per million prompt tokens, $15 per million completion tokens.
const PRICE = { input: 3, output: 15 };
const ADMIN_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = `aip_e2e_${Date.now().toString(36)}`;
const apps: RunningApp[] = [];
let postgres: pg.Client;
let access: RunningApp;
let llm: MockLlm;
let variantA: MockLlm;
let variantB: MockLlm;
let acme: { key: string; id: string };
let globex: { key: string; id: string };

const get = (path: string, token: string) => fetch(`${access.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

async function ask(key: string, content: string, extra: Record<string, unknown> = {}) {
  const response = await fetch(`${access.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content }], ...extra }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string; usage: { prompt_tokens: number; completion_tokens: number }; choices: { message: { content: string } }[] };
}

const chat = async (key: string, content: string) => (await ask(key, content)).usage;

beforeAll(async () => {
  postgres = new pg.Client({ connectionString: ADMIN_URL });
  await postgres.connect();
  await postgres.query(`CREATE DATABASE ${DATABASE}`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${DATABASE}`;
  await provisionNamespace(namespace);
  [llm, variantA, variantB] = await Promise.all([startMockLlm({ reply: 'Twelve words of answer, give or take a few, for the ledger.' }), startMockLlm({ reply: 'Variant A speaking.' }), startMockLlm({ reply: 'Variant B speaking.' })]);
  const variant = (name: string, mock: MockLlm, weight: number) => ({ name, kind: 'openai-compatible', baseUrl: mock.url, model: name, firstTokenTimeoutMs: 5_000, weight });
  const routing = JSON.stringify({
    models: {
      'mock-gpt': { providers: [{ name: 'mock', kind: 'openai-compatible', baseUrl: llm.url, model: 'gpt-y', firstTokenTimeoutMs: 5_000, price: PRICE }] },
      // An A/B test: half the conversations on each variant, each conversation on one.
      ab: { sticky: true, providers: [variant('variant-a', variantA, 50), variant('variant-b', variantB, 50)] },
    },
  });
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX, MODEL_ROUTING: routing };
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, INFERENCE_SLOTS: '4', WORKER_ID: uniqueName('worker') }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'mock-gpt,ab', DATABASE_URL: databaseUrl.toString(), BUDGET_SEED_MS: '500' }),
  ]);
  access = apps.find((app) => app.name === 'access')!;
  [acme, globex] = await Promise.all([createKey(access, ADMIN_TOKEN, { tenantId: 'acme', models: ['mock-gpt', 'ab'] }), createKey(access, ADMIN_TOKEN, { tenantId: 'globex', models: ['mock-gpt'] })]);
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await Promise.all([llm?.close(), variantA?.close(), variantB?.close()]);
  await postgres?.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await postgres?.end();
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
    expect(header).toBe('tenant,requests,failed,promptTokens,completionTokens,cachedTokens,cost,firstTokenMsP50,durationMsP50,feedbackScore,feedbackCount');
    expect(row).toMatch(/^acme,2,0,\d+,\d+,\d+,0\.\d+,\d+(\.\d+)?,\d+(\.\d+)?,,0$/);
    expect(end).toBe('');
    // The admin report is the admin's: an API key is not enough.
    expect((await get('/admin/usage', acme.key)).status).toBe(401);
  });

  it('splits an A/B alias by weight, keeps each conversation on its variant, and compares the variants', async () => {
    const variantOf = (text: string) => (text.includes('Variant A') ? 'variant-a' : text.includes('Variant B') ? 'variant-b' : text);
    const sessions: string[][] = [];
    for (let session = 0; session < 8; session++) {
      const answers: string[] = [];
      for (let turn = 0; turn < 3; turn++) {
        const answer = await ask(acme.key, `turn ${turn}`, { model: 'ab', session_id: `ab-session-${session}` });
        answers.push(variantOf(answer.choices[0]!.message.content));
      }
      sessions.push(answers);
    }
    // Every conversation stayed on one variant; both variants got conversations.
    for (const answers of sessions) expect(new Set(answers).size).toBe(1);
    const perVariant = new Map<string, number>();
    for (const answers of sessions) perVariant.set(answers[0]!, (perVariant.get(answers[0]!) ?? 0) + answers.length);
    expect([...perVariant.keys()].sort()).toEqual(['variant-a', 'variant-b']);

    // Side by side in the usage report: requests, time to first token, failures per variant.
    await eventually(async () => {
      const report = (await (await get('/v1/usage?group_by=provider&model=ab', acme.key)).json()) as { data: { requests: number }[] };
      return report.data.reduce((sum, line) => sum + line.requests, 0) === 24;
    }, 'the 24 A/B requests in the ledger', 30_000);
    const report = (await (await get('/v1/usage?group_by=provider&model=ab', acme.key)).json()) as { data: Record<string, unknown>[] };
    expect(report.data.map((line) => [line['provider'], line['requests'], line['failed']])).toEqual([
      ['variant-a', perVariant.get('variant-a'), 0],
      ['variant-b', perVariant.get('variant-b'), 0],
    ]);
    for (const line of report.data) expect(line['firstTokenMsP50']).toEqual(expect.any(Number));
  });

  it('takes ratings of answers (-1 to 1) and shows their mean beside the usage; end users rate only their own', async () => {
    const send = async (key: string, content: string, user?: string) => {
      const response = await fetch(`${access.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content }], ...(user ? { user } : {}) }) });
      expect(response.status).toBe(200);
      return response.headers.get('x-task-id')!;
    };
    const rate = (token: string, body: unknown) => fetch(`${access.url}/v1/feedback`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const [liked, disliked] = [await send(globex.key, 'rate me well', 'ada'), await send(globex.key, 'rate me badly', 'bob')];
    // The ledger writes the answer's row a moment after it ends.
    await eventually(async () => (await rate(globex.key, { task_id: liked, score: 1, comment: 'spot on' })).status === 201, 'the answer rated', 30_000);

    // Ada's browser (a realtime token for ada) rates Ada's answer, never Bob's.
    const tokenFor = async (user: string) => ((await (await fetch(`${access.url}/v1/realtime/tokens`, { method: 'POST', headers: { authorization: `Bearer ${globex.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ user }) })).json()) as { token: string }).token;
    const ada = await tokenFor('ada');
    expect((await rate(ada, { task_id: disliked, score: -1 })).status).toBe(404);
    expect((await rate(ada, { task_id: liked, score: 0.5 })).status).toBe(201);
    const bob = await tokenFor('bob');
    const bobs = await rate(bob, { task_id: disliked, score: -1, comment: 'wrong' });
    expect(bobs.status).toBe(201);
    expect(await bobs.json()).toEqual({ object: 'feedback', task_id: disliked, score: -1, comment: 'wrong' });
    // Another tenant's answer does not exist for acme's key.
    expect((await rate(acme.key, { task_id: liked, score: 1 })).status).toBe(404);

    const users = (await (await get('/v1/usage?group_by=user', globex.key)).json()) as { data: Record<string, unknown>[] };
    expect(users.data.filter((line) => line['user'] === 'ada' || line['user'] === 'bob').map((line) => [line['user'], line['feedbackScore'], line['feedbackCount']])).toEqual([
      ['ada', 0.5, 1],
      ['bob', -1, 1],
    ]);

    for (const [body, param] of [[{ task_id: liked, score: 2 }, 'score'], [{ task_id: liked, response_id: 'resp_x', score: 1 }, 'task_id'], [{ score: 1 }, 'task_id'], [{ task_id: liked, score: 1, stars: 5 }, null], [{ task_id: liked, score: 1, comment: 'a\u0000b' }, 'comment'], [{ task_id: 'a\u0000b', score: 1 }, 'task_id']] as const) {
      const response = await rate(globex.key, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', param } });
    }
  });

  it('refuses a request that would go over a spend budget (429 budget_exceeded, naming it and its reset) and shows the spend to operators', async () => {
    // A budget of $0.0003 a day for a third tenant: each request reserves its dearest cost
    // (estimated prompt + max_tokens 10 at $3 / $15 per million) and settles to what it cost.
    const frugal = await createKey(access, ADMIN_TOKEN, { tenantId: 'frugal', models: ['mock-gpt'] });
    const put = await fetch(`${access.url}/admin/config/policies`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ budgets: [{ id: 'tiny', tenantId: 'frugal', amountUsd: 0.0003, period: 'day', softPercent: 50 }] }) });
    expect(put.status).toBe(200);
    const send = () => fetch(`${access.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${frugal.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) });
    // The limiter applies the document within a second; until then nothing is budgeted.
    await eventually(async () => ((await (await get('/admin/budgets?tenant_id=frugal', ADMIN_TOKEN)).json()) as { data: unknown[] }).data.length === 1, 'the budget in force at access', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 10 && !refusal; i++) {
      const response = await send();
      statuses.push(response.status);
      if (response.status === 429) refusal = response;
      else await response.text();
    }
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    expect(refusal).toBeDefined();
    const body = (await refusal!.json()) as { error: { code: string; message: string; type: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'budget_exceeded' });
    expect(body.error.message).toMatch(/daily budget tiny \(tenant frugal\) of \$0\.0003 would be exceeded .*resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z/);
    expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThan(0);

    const budgets = (await (await get('/admin/budgets?tenant_id=frugal', ADMIN_TOKEN)).json()) as { data: Record<string, unknown>[] };
    expect(budgets.data).toEqual([expect.objectContaining({ id: 'tiny', tenantId: 'frugal', amountUsd: 0.0003, period: 'day', softReached: true, spentUsd: expect.any(Number) })]);
    expect(budgets.data[0]!['spentUsd'] as number).toBeGreaterThan(0);
    expect(budgets.data[0]!['spentUsd'] as number).toBeLessThanOrEqual(0.0003);
    // The refusal is in the ledger too, as a rejected request.
    await eventually(async () => ((await (await get('/v1/usage?group_by=status', frugal.key)).json()) as { data: { status: string }[] }).data.some((line) => line.status === 'rejected'), 'the rejection in the ledger', 30_000);

    // Redis loses the budget's counters: within a moment they stand at what the ledger recorded.
    const ledgerCost = ((await (await get('/v1/usage?group_by=', frugal.key)).json()) as { data: { cost: number }[] }).data[0]!.cost;
    expect(ledgerCost).toBeGreaterThan(0);
    const redis = testRedis();
    try {
      await deleteKeys(redis, `${REDIS_PREFIX}rl:{spend:frugal}`);
    } finally {
      redis.disconnect();
    }
    const spentNow = async () => ((await (await get('/admin/budgets?tenant_id=frugal', ADMIN_TOKEN)).json()) as { data: { spentUsd: number }[] }).data[0]!.spentUsd;
    await eventually(async () => Math.abs((await spentNow()) - ledgerCost) < 1e-9, 'the budget taken up from the ledger', 15_000);
    await fetch(`${access.url}/admin/config/policies`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  });

  it('names a bad window, grouping or format (400), and refuses a request without a key (401)', async () => {
    const cases: [string, string][] = [
      ['/v1/usage?group_by=tenant', 'group_by'],
      ['/v1/usage?group_by=day,hour', 'group_by'],
      ['/v1/usage?from=yesterday', 'from'],
      ['/v1/usage?from=2026-12-02&to=2026-12-01', 'from'],
      ['/v1/usage?from=2020-01-01&to=2026-01-01', 'from'],
      ['/v1/usage?from=%2B275760-09-13T00:00:00.000Z', 'from'],
      ['/v1/usage?group_by=model&group_by=day', 'group_by'],
      ['/v1/usage?user=a%00b', 'user'],
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
