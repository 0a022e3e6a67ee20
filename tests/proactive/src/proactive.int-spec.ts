import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKey, eventually, freePort, isBuilt, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type LaunchedBrowser } from './browser.ts';
import { SocketUser } from './socket-user.ts';

// The proactive path end to end, with real processes on the real broker and Redis: a user chats
// over rtc-push (→ access's request path: rate-limiter, an inference worker with the extractive
// model), intent-scheduler sees the conversation, decides a prompt on its next tick and publishes
// it to the central topic, rtc-push delivers it to the user's socket — or keeps it until they are back.
const REQUIRED = ['access', 'rate-limiter', 'inference', 'intent-scheduler', 'rtc-push'];
const ADMIN_TOKEN = 'e2e-admin-token-proactive-0123456789';
const TICK_MS = 1_000;
// The catalogue's default: no push while the user spoke within this long (they are reading).
const USER_GRACE_MS = 10_000;
/** One tick after the grace period, with room for a loaded 2-core CI machine. */
const PROMPT_WITHIN_MS = USER_GRACE_MS + 3 * TICK_MS + 20_000;

const apps: RunningApp[] = [];
let access: RunningApp;
let scheduler: RunningApp;
let edgeA: RunningApp;
let edgeB: RunningApp;
let apiKey: string;
let missing: string[] = [];
let knowledgeUrl: string;
let startEdge: (id: string, port: number) => Promise<RunningApp>;

beforeAll(async () => {
  missing = [];
  for (const name of REQUIRED) if (!(await isBuilt(name))) missing.push(name);
  if (missing.length > 0) throw new Error(`the proactive e2e needs built apps; missing apps/{${missing.join(',')}}/dist/main.js (run nx run-many -t build)`);

  // Every topic and group (the central topic included) is this run's own, in a namespace: another
  // run's rtc-push or scheduler on the shared broker must not take our messages (they would land in
  // its Redis prefix, not ours).
  const namespace = uniqueNamespace('e2e-proactive');
  await provisionNamespace(namespace);
  // Inference workers retrieve from the store knowledge-ingest writes: one store of this run's own.
  const shared = {
    ...(process.env['E2E_APP_LOGS'] === '1' ? { LOG_LEVEL: 'info' } : {}),
    ROCKETMQ_NAMESPACE: namespace,
    REDIS_PREFIX: `${uniqueName('e2e-proactive')}:`,
    LANCEDB_DIR: await mkdtemp(join(tmpdir(), 'aip-e2e-lancedb-')),
  };
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, INFERENCE_SLOTS: '8', WORKER_ID: uniqueName('worker') }),
    startApp('intent-scheduler', { ...shared, INTENT_TICK_MS: String(TICK_MS), INTENT_SHARDS: '4' }),
  ]);
  scheduler = apps.find((app) => app.name === 'intent-scheduler')!;
  // The page is served by rtc-push and calls access and knowledge-ingest from there (other
  // origins): their ports are chosen first so each app can be told about the others.
  const [portA, portB, knowledgePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const pageOrigins = [portA, portB].map((port) => `http://127.0.0.1:${port}`).join(',');
  [access] = await startApps(apps, [startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive', CORS_ORIGINS: pageOrigins })]);
  knowledgeUrl = `http://127.0.0.1:${knowledgePort}`;
  if (await isBuilt('knowledge-ingest')) {
    await startApps(apps, [startApp('knowledge-ingest', { ...shared, PORT: String(knowledgePort), CORS_ORIGINS: pageOrigins, KNOWLEDGE_DATA_DIR: await mkdtemp(join(tmpdir(), 'aip-e2e-knowledge-')) })]);
  }
  startEdge = (id: string, port: number) =>
    startApp('rtc-push', {
      ...shared,
      PORT: String(port),
      RTC_INSTANCE_ID: id,
      RESEND_AFTER_MS: '2000',
      SWEEP_INTERVAL_MS: '2000',
      // What the page reads from /config.json.
      ACCESS_PUBLIC_URL: access.url,
      KNOWLEDGE_PUBLIC_URL: knowledgeUrl,
    });
  [edgeA, edgeB] = await startApps(apps, [startEdge(uniqueName('edge-a'), portA), startEdge(uniqueName('edge-b'), portB)]);
  ({ key: apiKey } = await createKey(access, ADMIN_TOKEN, { tenantId: uniqueName('tenant') }));
}, 240_000);

afterAll(async () => {
  // E2E_APP_LOGS=1 prints what every app wrote (LOG_LEVEL=info) — the first thing to read when a step times out.
  if (process.env['E2E_APP_LOGS'] === '1') {
    for (const app of apps) process.stderr.write(`\n----- ${app.name} :${app.port}\n${app.output.join('').slice(-20_000)}\n`);
  }
  await Promise.all(apps.map(stopApp));
});

/** A user of this run with no quiet hours (the catalogue's default quiet hours would hold prompts back at night, UTC). */
async function newUser(name: string): Promise<SocketUser> {
  const user = new SocketUser(uniqueName(name), apiKey);
  const response = await fetch(`${scheduler.url}/v1/users/${encodeURIComponent(user.userId)}/proactive-settings`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ quietHours: null }),
  });
  expect(response.status).toBe(200);
  return user;
}

/** The sum of a Prometheus counter's samples whose labels include `labels`. */
async function counter(app: RunningApp, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{([^}]*)\} ([\d.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3]);
  }
  return total;
}

const decisions = (labels: Record<string, string>) => counter(scheduler, 'aip_proactive_decisions_total', labels);

/** The user asks through access's API (another device than the page), in a session of its own. */
async function askThroughAccess(userId: string, session: string, content: string): Promise<void> {
  const response = await fetch(`${access.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'extractive', user: userId, session_id: uniqueName(session), messages: [{ role: 'user', content }] }),
  });
  expect(response.status).toBe(200);
}

describe('the proactive path (socket level)', () => {
  it('offers hotels in the city a user asked about, within one tick, without being asked', async () => {
    const user = await newUser('traveller');
    await user.connect(edgeA.url);
    const session = uniqueName('session');
    const answer = await user.chat('What are the sights in Beijing?', session);
    expect(answer.done['model']).toBe('extractive');
    expect(answer.text).toMatch(/retrieval-only|passages|knowledge/i);

    const answered = Date.now();
    const [push] = await user.pushes.count(1, PROMPT_WITHIN_MS);
    process.stderr.write(`[proactive e2e] hotel prompt ${Date.now() - answered} ms after the answer (reading grace ${USER_GRACE_MS} ms, tick ${TICK_MS} ms)\n`);
    expect(push).toMatchObject({ kind: 'proactive', intent: 'city_attractions', slots: { city: 'Beijing' }, redelivery: 0 });
    expect(push!.text).toMatch(/hotel/i);
    expect(push!.text).toContain('Beijing');
    await user.disconnect();
  });

  it('does not offer the same thing again inside the cooldown', async () => {
    const user = await newUser('repeat');
    await user.connect(edgeB.url);
    const session = uniqueName('session');
    await user.chat('What are the sights in Paris?', session);
    await user.pushes.count(1, PROMPT_WITHIN_MS);

    const suppressedBefore = await decisions({ intent: 'city_attractions', outcome: 'suppressed' });
    await user.chat('What are the sights in Paris? Top tourist attractions in Paris please', session);
    // The scheduler looks at the conversation again and holds the prompt back (cooldown).
    await eventually(async () => (await decisions({ intent: 'city_attractions', outcome: 'suppressed' })) > suppressedBefore, 'a suppressed decision for the repeated conversation', PROMPT_WITHIN_MS);
    // A different intent still comes through, after the point where a second hotel prompt would have come.
    await user.chat('How do I get to Paris from London by train?', session);
    const pushes = await user.pushes.count(2, PROMPT_WITHIN_MS);
    expect(pushes.map((p) => p.intent)).toEqual(['city_attractions', 'travel_transport']);
    await user.disconnect();
    expect(user.pushes.items).toHaveLength(2);
  });

  it('keeps a prompt for a user who went away and delivers it when they come back', async () => {
    const user = await newUser('away');
    await user.connect(edgeA.url);
    const sentBefore = await decisions({ intent: 'city_attractions', outcome: 'sent' });
    await user.chat('What are the sights in Tokyo?', uniqueName('session'));
    await user.disconnect(); // gone before the prompt (it waits out the reading grace period)
    await eventually(async () => (await decisions({ intent: 'city_attractions', outcome: 'sent' })) > sentBefore, 'the prompt to be sent while the user is away', PROMPT_WITHIN_MS);

    const welcome = await user.connect(edgeB.url); // back, on the other instance
    const [push] = await user.pushes.count(1, 15_000);
    expect(welcome['pending']).toBeGreaterThanOrEqual(0);
    expect(push).toMatchObject({ intent: 'city_attractions', slots: { city: 'Tokyo' } });
    await user.disconnect();

    // Acked: a later connection gets nothing again.
    const again = new SocketUser(user.userId, apiKey);
    const second = await again.connect(edgeA.url);
    expect(second['pending']).toBe(0);
    await again.disconnect();
  });

  it('with two rtc-push instances, each user gets exactly their own prompts, once, in order', async () => {
    const [ana, ben] = await Promise.all([newUser('ana'), newUser('ben')]);
    await Promise.all([ana.connect(edgeA.url), ben.connect(edgeB.url)]);
    const [sa, sb] = [uniqueName('session'), uniqueName('session')];
    // Both chat at once; whichever instance consumes a push must hand it to the instance holding its user.
    await Promise.all([ana.chat('What are the sights in Rome?', sa), ben.chat('Things to do in Seoul', sb)]);
    await Promise.all([ana.pushes.count(1, PROMPT_WITHIN_MS), ben.pushes.count(1, PROMPT_WITHIN_MS)]);
    await Promise.all([ana.chat('Is there a train to Milan from Rome?', sa), ben.chat('Flights to Tokyo from Seoul next week', sb)]);
    await Promise.all([ana.pushes.count(2, PROMPT_WITHIN_MS), ben.pushes.count(2, PROMPT_WITHIN_MS)]);

    expect(ana.pushes.items.map((p) => [p.intent, p.slots?.['city']])).toEqual([['city_attractions', 'Rome'], ['travel_transport', 'Milan']]);
    expect(ben.pushes.items.map((p) => [p.intent, p.slots?.['city']])).toEqual([['city_attractions', 'Seoul'], ['travel_transport', 'Tokyo']]);
    for (const user of [ana, ben]) {
      const seqs = user.pushes.items.map((p) => p.seq);
      expect(seqs[1]).toBe(seqs[0]! + 1);
      // No push of the other user ever reached this socket.
      expect(user.frames.filter((f) => f.type === 'push' && !user.pushes.items.some((p) => p.id === f['id']))).toEqual([]);
    }
    await Promise.all([ana.disconnect(), ben.disconnect()]);
  });
});

describe('the proactive path in the web page (Chromium)', () => {
  let launched: LaunchedBrowser;
  let context: BrowserContext;
  let page: Page;
  /** The user the page signs in as (the later tests continue with the same page). */
  let webUser = '';

  beforeAll(async () => {
    if (!edgeA || !apiKey) throw new Error('the platform did not start: see the first error of this file');
    launched = await launchBrowser();
    context = await launched.browser.newContext();
    // The page is served by rtc-push and calls access from there: access must allow that origin.
    const preflight = await fetch(`${access.url}/v1/realtime/tokens`, { method: 'OPTIONS', headers: { origin: edgeA.url, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    if (!preflight.headers.get('access-control-allow-origin')) {
      throw new Error(`access does not allow the page's origin ${edgeA.url} (CORS preflight answered ${preflight.status} without access-control-allow-origin): the page cannot get a realtime token`);
    }
    const served = await fetch(`${edgeA.url}/config.json`);
    if (served.status === 404) {
      // rtc-push does not serve /config.json yet: give the page what it would say.
      process.stderr.write('[proactive e2e] rtc-push serves no /config.json; the test supplies it to the page\n');
      await context.route('**/config.json', (route) => route.fulfill({ json: { accessUrl: access.url, knowledgeUrl, model: 'extractive' } }));
    } else {
      expect(await served.json()).toMatchObject({ accessUrl: access.url });
    }
    page = await context.newPage();
  }, 15 * 60_000);

  afterAll(async () => {
    await context?.close();
    await launched?.close();
  });

  const label = () => page.locator('#connection .label');
  const prompts = () => page.locator('#prompts .prompt');

  it('shows the hotel prompt unasked, survives a lost network, and shows what arrived meanwhile', async () => {
    const userId = (webUser = (await newUser('web')).userId);

    await page.goto(edgeA.url);
    await page.locator('#key-dialog').waitFor({ state: 'visible' });
    await page.fill('#key-input', apiKey);
    await page.fill('#user-input', userId);
    await page.click('#key-form button[type=submit]');
    await eventually(async () => (await label().textContent()) === 'connected', 'the page to connect', 30_000);

    await page.fill('#chat-input', 'What are the sights in Beijing?');
    await page.press('#chat-input', 'Enter');
    const answer = page.locator('.message.assistant').last();
    await eventually(async () => (await answer.getAttribute('data-status')) === 'done', 'the streamed answer', 60_000);
    expect((await answer.locator('.text').textContent())?.length).toBeGreaterThan(0);

    await eventually(async () => (await prompts().count()) === 1, 'the hotel prompt, unasked', PROMPT_WITHIN_MS);
    expect(await prompts().first().locator('.intent').textContent()).toBe('city_attractions');
    expect(await prompts().first().locator('p').textContent()).toMatch(/hotels in Beijing/);
    expect(await page.locator('.message.proactive').count()).toBe(1);

    // The network goes; meanwhile the user asks something on another device (access's API).
    await context.setOffline(true);
    await eventually(async () => (await label().textContent())?.startsWith('offline') ?? false, 'the indicator to show offline', 10_000);
    const sentBefore = await decisions({ intent: 'travel_transport', outcome: 'sent' });
    await askThroughAccess(userId, 'phone', 'How do I get to Shanghai from Beijing?');
    await eventually(async () => (await decisions({ intent: 'travel_transport', outcome: 'sent' })) > sentBefore, 'the second prompt to be published while the page is offline', PROMPT_WITHIN_MS);
    expect(await prompts().count()).toBe(1);

    await context.setOffline(false);
    await eventually(async () => /^connected \(reconnected/.test((await label().textContent()) ?? ''), 'the indicator to show the reconnect', 60_000);
    await eventually(async () => (await prompts().count()) === 2, 'the prompt missed while offline', 30_000);
    expect(await prompts().locator('.intent').allTextContents()).toEqual(['travel_transport', 'city_attractions']);
    expect(await prompts().first().locator('p').textContent()).toMatch(/Shanghai/);

    // Acked: a socket client of the same user now has nothing pending.
    await eventually(async () => {
      const probe = new SocketUser(userId, apiKey);
      const welcome = await probe.connect(edgeB.url);
      await probe.disconnect();
      return welcome['pending'] === 0;
    }, 'both prompts acked by the page', 15_000);
  });
  it('rides out a restart of its rtc-push instance and gets the prompt decided while it was down', async () => {
    const userId = webUser;
    const before = await prompts().count();
    const sentBefore = await decisions({ intent: 'recipe_cooking', outcome: 'sent' });

    const reconnectsBefore = Number(await page.locator('#connection').getAttribute('data-reconnects'));
    const port = edgeA.port;
    await stopApp(edgeA); // closes the page's socket with 1001 "going away"
    apps.splice(apps.indexOf(edgeA), 1);
    await eventually(async () => /^connection lost — reconnecting|^reconnecting/.test((await label().textContent()) ?? ''), 'the indicator to show the lost connection', 15_000);
    await askThroughAccess(userId, 'kitchen', 'Recipe for chocolate cake?');
    // Decided and consumed (by the other instance) while the page's instance is down.
    await eventually(async () => (await decisions({ intent: 'recipe_cooking', outcome: 'sent' })) > sentBefore, 'the prompt to be published while rtc-push is down', PROMPT_WITHIN_MS);

    [edgeA] = await startApps(apps, [startEdge(uniqueName('edge-a'), port)]);
    await eventually(
      async () => (await page.locator('#connection').getAttribute('data-state')) === 'open' && Number(await page.locator('#connection').getAttribute('data-reconnects')) > reconnectsBefore,
      'the page to reconnect to the restarted instance',
      60_000,
    );
    expect(await label().textContent()).toMatch(/^connected \(reconnected ×\d+\)$/);
    await eventually(async () => (await prompts().count()) === before + 1, 'the prompt decided while rtc-push was down', 30_000);
    expect(await prompts().first().locator('.intent').textContent()).toBe('recipe_cooking');
  });

  it('uploads a document with visible progress, and the next answer cites it', async () => {
    if (!(await isBuilt('knowledge-ingest'))) throw new Error('knowledge-ingest is not built (apps/knowledge-ingest/dist/main.js): the page cannot upload');
    await page.fill('#kb-name', 'travel');
    await page.setInputFiles('#kb-files', {
      name: 'beijing-hotels.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Hotels in Beijing\n\nThe Peninsula Beijing is a luxury hotel a short walk from Wangfujing shopping street.\n\nThe Orchid is a small courtyard hotel in the hutongs near the Drum Tower.\n'),
    });
    await page.click('#kb-form button[type=submit]');
    const row = page.locator('#uploads .upload').first();
    const seen = new Set<string>();
    await eventually(async () => {
      seen.add((await row.getAttribute('data-status')) ?? '');
      return (await row.getAttribute('data-status')) === 'indexed';
    }, 'the document to be indexed', 180_000);
    expect(seen.has('failed')).toBe(false);
    expect(await row.locator('progress').evaluate((bar) => (bar as HTMLProgressElement).value)).toBe(1);

    await page.fill('#chat-input', 'Which hotel is near Wangfujing in Beijing?');
    await page.press('#chat-input', 'Enter');
    const answer = page.locator('.message.assistant').last();
    await eventually(async () => ['done', 'failed'].includes((await answer.getAttribute('data-status')) ?? ''), 'the grounded answer', 60_000);
    expect(await answer.getAttribute('data-status')).toBe('done');
    expect(await answer.locator('.text').textContent()).toMatch(/Peninsula/);
    expect((await answer.locator('.sources li').allTextContents()).join(' ')).toMatch(/hotel/i);
  });

  it("lists its user's conversations and switches between them, the chat showing each one's messages", async () => {
    const titles = () => page.locator('#conversation-list .conversation').allTextContents();
    // The conversation of the tests above (and the one asked on "another device") are listed by their first question.
    await eventually(async () => (await titles()).includes('What are the sights in Beijing?'), 'the first conversation in the list', 15_000);

    await page.click('#new-conversation');
    expect(await page.locator('#messages .message').count()).toBe(0);
    await page.fill('#chat-input', 'Which museums are in Shanghai?');
    await page.press('#chat-input', 'Enter');
    const answer = page.locator('.message.assistant').last();
    await eventually(async () => (await answer.getAttribute('data-status')) === 'done', 'the answer in the new conversation', 60_000);
    await eventually(async () => (await titles())[0] === 'Which museums are in Shanghai?', 'the new conversation at the top of the list', 15_000);

    // Back to the first: its messages, not the new one's.
    await page.locator('#conversation-list .conversation', { hasText: 'What are the sights in Beijing?' }).locator('button').click();
    const users = () => page.locator('#messages .message.user').allTextContents();
    await eventually(async () => (await users()).includes('What are the sights in Beijing?'), "the first conversation's messages", 15_000);
    expect(await users()).not.toContain('Which museums are in Shanghai?');
    expect(await page.locator('#conversation-list .conversation.current').textContent()).toBe('What are the sights in Beijing?');
    // And a reload stays in it.
    await page.reload();
    await eventually(async () => (await users()).includes('What are the sights in Beijing?'), 'the same conversation after a reload', 30_000);
  });
});
