import { namespaced, TOPICS, type Envelope } from '@aip/contracts';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { loadClient, quietLogger } from '@aip/rocketmq-local/dlq';
import { createKey, eventually, provisionBroker, provisionNamespace, type RunningApp, startApp, startApps, stopApp, testConnection, uniqueName, uniqueNamespace } from '@aip/testing';

// User profiles end to end: real access, rate-limiter and inference processes on the real broker
// (topics of this run's own namespace) and Redis. What a user of the API notices — the profile
// they wrote comes back, changes merge, deletion sticks, other tenants see nothing, mistakes are
// named — plus the two things downstream sees: the events on `user-profile`, and the profile in
// the system prompt of an answer.
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const namespace = uniqueNamespace('e2e-profile');
const REDIS_PREFIX = `${uniqueName('e2e-profile')}:`;
const WATCH_GROUP = namespaced(namespace, 'profile-watch');
const apps: RunningApp[] = [];
let access: RunningApp;
let llm: MockLlm;
let acme: string;
let globex: string;

type ProfileEvent = Envelope<'user.profile.updated'> | Envelope<'user.profile.deleted'>;
const events: { event: ProfileEvent; tag: string | undefined; messageGroup: string | undefined }[] = [];
let watching = true;
let watcher: Promise<void> | undefined;
let stopWatcher: (() => Promise<void>) | undefined;

/** Reads `user-profile` of this namespace with a group of the test's own, as a downstream consumer would. */
async function watchProfileEvents(): Promise<void> {
  const { SimpleConsumer } = await loadClient();
  const consumer = new SimpleConsumer({
    endpoints: testConnection().endpoints, namespace: '', logger: quietLogger(), consumerGroup: WATCH_GROUP,
    subscriptions: new Map([[namespaced(namespace, TOPICS.userProfile.name), '*']]), awaitDuration: 5_000, requestTimeout: 3_000,
  }) as unknown as {
    startup(): Promise<void>; shutdown(): Promise<void>;
    receive(max: number, invisibleMs: number): Promise<{ body: Buffer; tag?: string; messageGroup?: string }[]>;
    ack(message: unknown): Promise<void>;
  };
  await consumer.startup();
  stopWatcher = async () => {
    watching = false;
    await watcher?.catch(() => undefined);
    await consumer.shutdown().catch(() => undefined);
  };
  watcher = (async () => {
    while (watching) {
      const messages = await consumer.receive(16, 30_000).catch((error: unknown) => (process.stderr.write(`receive: ${String(error)}\n`), []));
      for (const message of messages) {
        events.push({ event: JSON.parse(message.body.toString('utf8')) as ProfileEvent, tag: message.tag, messageGroup: message.messageGroup });
        await consumer.ack(message).catch(() => undefined);
      }
    }
  })();
}

async function eventsFor(userId: string, count: number) {
  const mine = () => events.filter((item) => item.event.data.userId === userId);
  await eventually(() => mine().length >= count, `${count} profile event(s) of ${userId}`, 30_000);
  return mine();
}

function call(method: string, userId: string, key: string, body?: unknown) {
  return fetch(`${access.url}/v1/users/${encodeURIComponent(userId)}/profile`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

beforeAll(async () => {
  await provisionNamespace(namespace);
  await provisionBroker([], [{ name: WATCH_GROUP, orderly: true, retryMaxTimes: 0 }]);
  await watchProfileEvents();
  llm = await startMockLlm({ reply: 'Guten Tag.' });
  const routing = { models: { 'mock-gpt': { providers: [{ name: 'mock', kind: 'openai-compatible', baseUrl: llm.url, model: 'gpt-y', firstTokenTimeoutMs: 5_000 }] } } };
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX };
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), INFERENCE_SLOTS: '4', WORKER_ID: uniqueName('worker') }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'mock-gpt' }),
  ]);
  access = apps.find((app) => app.name === 'access')!;
  [acme, globex] = await Promise.all([createKey(access, ADMIN_TOKEN, { tenantId: 'acme', models: ['mock-gpt'] }), createKey(access, ADMIN_TOKEN, { tenantId: 'globex', models: ['mock-gpt'] })]).then((keys) => keys.map((k) => k.key));
}, 180_000);

afterAll(async () => {
  await stopWatcher?.();
  await Promise.all(apps.map(stopApp));
  await llm?.close();
});

describe('/v1/users/{userId}/profile', () => {
  it('returns what was PUT (language tag and time zone canonical), and publishes the whole profile', async () => {
    const userId = uniqueName('ada');
    const put = await call('PUT', userId, acme, { displayName: 'Ada', language: 'de-de', timeZone: 'europe/berlin', interests: ['rail'], preferences: { units: 'metric' } });
    expect(put.status).toBe(200);
    const profile = { displayName: 'Ada', language: 'de-DE', timeZone: 'Europe/Berlin', interests: ['rail'], preferences: { units: 'metric' } };
    expect(await put.json()).toMatchObject({ object: 'user.profile', userId, profile, revision: 1 });
    const got = await call('GET', userId, acme);
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ userId, profile, revision: 1, updatedAt: expect.any(String) });

    const [published] = await eventsFor(userId, 1);
    expect(published).toMatchObject({ tag: 'updated', messageGroup: userId, event: { type: 'user.profile.updated', tenantId: 'acme', data: { userId, profile, revision: 1 } } });
  });

  it('merges a PATCH (null removes a field or one preference) and a PUT replaces everything', async () => {
    const userId = uniqueName('bo');
    await call('PUT', userId, acme, { displayName: 'Bo', language: 'en', preferences: { units: 'metric', tone: 'dry' } });
    const patched = await call('PATCH', userId, acme, { displayName: null, timeZone: 'Asia/Tokyo', preferences: { tone: null, diet: 'vegan' } });
    expect(patched.status).toBe(200);
    expect((await (await call('GET', userId, acme)).json()).profile).toEqual({ language: 'en', timeZone: 'Asia/Tokyo', preferences: { units: 'metric', diet: 'vegan' } });

    await call('PUT', userId, acme, { interests: ['chess'] });
    expect((await (await call('GET', userId, acme)).json()).profile).toEqual({ interests: ['chess'] });
    const published = await eventsFor(userId, 3);
    expect(published.map(({ event }) => event.data.revision)).toEqual([1, 2, 3]);
  });

  it('forgets a deleted profile (404 after), and publishes the deletion', async () => {
    const userId = uniqueName('cy');
    await call('PUT', userId, acme, { displayName: 'Cy' });
    const deleted = await call('DELETE', userId, acme);
    expect(deleted.status).toBe(204);
    const after = await call('GET', userId, acme);
    expect(after.status).toBe(404);
    expect(await after.json()).toEqual({ error: { message: 'This user has no profile.', type: 'not_found_error', param: null, code: 'profile_not_found' } });
    expect((await call('DELETE', userId, acme)).status).toBe(404);
    const published = await eventsFor(userId, 2);
    expect(published.map(({ tag, event }) => [tag, event.type, event.data.revision])).toEqual([
      ['updated', 'user.profile.updated', 1],
      ['deleted', 'user.profile.deleted', 2],
    ]);
  });

  it("never shows a tenant another tenant's profile of the same user id", async () => {
    const userId = uniqueName('dee');
    await call('PUT', userId, acme, { displayName: 'Dee of Acme' });
    expect((await call('GET', userId, globex)).status).toBe(404);
    expect((await call('DELETE', userId, globex)).status).toBe(404);
    // Globex writing its own user of that id leaves Acme's alone.
    await call('PUT', userId, globex, { displayName: 'Dee of Globex' });
    expect((await (await call('GET', userId, acme)).json()).profile).toEqual({ displayName: 'Dee of Acme' });
  });

  it('refuses a bad time zone, an unknown field, oversize preferences and a bad user id with a 400 naming the field', async () => {
    const userId = uniqueName('eve');
    const zone = await call('PUT', userId, acme, { timeZone: 'Mars/Olympus_Mons' });
    expect(zone.status).toBe(400);
    expect(zone.headers.get('x-request-id')).toBeTruthy();
    expect(await zone.json()).toEqual({ error: { message: expect.stringContaining('not an IANA time zone'), type: 'invalid_request_error', param: 'timeZone', code: 'invalid_profile' } });

    const unknown = await call('PATCH', userId, acme, { timezone: 'UTC' });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.message).toContain('unknown field(s) "timezone"');

    const oversize = await call('PUT', userId, acme, { preferences: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, 'x'.repeat(500)])) });
    expect(oversize.status).toBe(400);
    expect((await oversize.json()).error).toMatchObject({ param: 'preferences', code: 'invalid_profile', message: expect.stringContaining('4096 bytes') });

    const badId = await call('GET', 'a\u0007b', acme);
    expect(badId.status).toBe(400);
    expect((await badId.json()).error).toMatchObject({ param: 'userId', code: 'invalid_user_id' });

    // Nothing refused was stored, and a request without a key is refused before anything else.
    expect((await call('GET', userId, acme)).status).toBe(404);
    expect((await fetch(`${access.url}/v1/users/${userId}/profile`)).status).toBe(401);
  });

  it("tells the model the user's profile in the system prompt of an answer", async () => {
    const userId = uniqueName('fay');
    await call('PUT', userId, acme, { displayName: 'Fay', language: 'de', timeZone: 'Asia/Tokyo', interests: ['rail travel'], preferences: { units: 'metric' } });
    const answer = await fetch(`${access.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', user: userId, messages: [{ role: 'user', content: 'What should I see today?' }] }),
    });
    expect(answer.status).toBe(200);
    const [system, ...rest] = llm.stats().lastRequest?.messages ?? [];
    expect(system?.role).toBe('system');
    expect(system?.content).toContain('Their name is "Fay"');
    expect(system?.content).toContain('Answer in German (de)');
    expect(system?.content).toMatch(/Their time zone is Asia\/Tokyo \(local time now: \d{4}-\d\d-\d\d \d\d:\d\d\)/);
    expect(system?.content).toContain('They are interested in: "rail travel".');
    expect(system?.content).toContain('"units": "metric"');
    expect(rest.at(-1)).toMatchObject({ role: 'user', content: 'What should I see today?' });

    // Deleted: the next answer knows nothing of the user.
    await call('DELETE', userId, acme);
    await fetch(`${access.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', user: userId, messages: [{ role: 'user', content: 'And tomorrow?' }] }),
    });
    expect(llm.stats().lastRequest?.messages).toEqual([{ role: 'user', content: 'And tomorrow?' }]);
  });
});
