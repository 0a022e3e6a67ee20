import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { createKey, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';
import OpenAI from 'openai';

// OpenAI's Conversations API and the Responses API's `conversation`, with the official SDK, on the
// platform's one conversation store (issue 15, ADR 0029): chat completions' `session_id` names the
// same conversation; a conversation is its end user's (404 for anyone else); deleting it deletes
// everything made in it.
const ADMIN_TOKEN = 'e2e-admin-token-conversations-0123456789';
const apps: RunningApp[] = [];
let upstream: MockLlm;
let access: RunningApp;
let key: string;

/** A client acting for one end user of the key's tenant (the backend names the user with X-User-Id). */
const clientFor = (user: string) => new OpenAI({ apiKey: key, baseURL: `${access.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-user-id': user } });
/** The messages the provider got last. */
const prompt = () => (upstream.stats().lastRequest as unknown as { messages: { role: string; content: unknown }[] }).messages;
const texts = (items: { type: string; content?: { text?: string }[] }[]) => items.map((item) => item.content?.map((part) => part.text ?? '[image]').join('') ?? item.type);

async function realtimeToken(user: string): Promise<string> {
  const response = await fetch(`${access.url}/v1/realtime/tokens`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

const call = (path: string, bearer: string, init: RequestInit = {}) => fetch(`${access.url}${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

beforeAll(async () => {
  const namespace = uniqueNamespace('e2e-conv');
  await provisionNamespace(namespace);
  upstream = await startMockLlm({});
  const routing = { models: { extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] }, 'mock-agent': { providers: [{ name: 'agent-upstream', kind: 'openai-compatible', baseUrl: upstream.url, model: 'gpt-agent', firstTokenTimeoutMs: 5_000 }] } } };
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX: `${uniqueName('e2e-conv')}:` };
  [, , access] = await startApps(apps, [
    startApp('rate-limiter', shared),
    // A small history budget: a few long messages go past it.
    startApp('inference', { ...shared, MODEL_ROUTING: JSON.stringify(routing), WORKER_ID: 'worker-conv', HISTORY_TOKEN_BUDGET: '300' }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'mock-agent,extractive' }),
  ]);
  ({ key } = await createKey(access, ADMIN_TOKEN, { models: ['mock-agent', 'extractive'] }));
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await upstream?.close();
});

describe('a conversation', () => {
  it('is one for the Conversations API, the Responses API and chat completions with session_id', async () => {
    const ada = clientFor('ada');
    const conversation = await ada.conversations.create({ metadata: { topic: 'names' }, items: [{ type: 'message', role: 'user', content: 'My name is Ada.' }] });
    expect(conversation).toMatchObject({ id: expect.stringMatching(/^conv_/), object: 'conversation', metadata: { topic: 'names' }, title: 'My name is Ada.' });

    const answered = await ada.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'What is my name?' });
    expect(answered).toMatchObject({ status: 'completed', conversation: { id: conversation.id } });
    expect(answered.output_text).toMatch(/^Echo: What is my name\?/);
    // The provider got the conversation before the input.
    expect(prompt().slice(-2)).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);

    // Chat completions continue the same conversation by its id, for the user the backend names (X-User-Id, or the body's user).
    const chat = await fetch(`${access.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-user-id': 'ada' },
      body: JSON.stringify({ model: 'mock-agent', session_id: conversation.id, messages: [{ role: 'user', content: 'And my topic?' }] }),
    });
    expect(chat.status).toBe(200);
    expect(prompt().map((message) => message.content)).toEqual(['My name is Ada.', 'What is my name?', answered.output_text, 'And my topic?']);

    // The items, with ids, newest first by default; the SDK pages through them.
    const all: string[] = [];
    for await (const item of ada.conversations.items.list(conversation.id, { limit: 2 })) all.push(item.id);
    const ascending = await ada.conversations.items.list(conversation.id, { order: 'asc', limit: 10 });
    expect(texts(ascending.data as never)).toEqual(['My name is Ada.', 'What is my name?', answered.output_text, 'And my topic?', expect.stringMatching(/^Echo: And my topic\?/)]);
    expect(all).toEqual(ascending.data.map((item) => item.id).reverse());

    // Items added by hand reach the next prompt; one deleted does not.
    const added = await ada.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'Remember: I like tea.' }, { type: 'message', role: 'user', content: 'Forget this one.' }] });
    expect(added.data).toHaveLength(2);
    expect(await ada.conversations.items.retrieve(added.data[1]!.id, { conversation_id: conversation.id })).toMatchObject({ type: 'message', role: 'user' });
    await ada.conversations.items.delete(added.data[1]!.id, { conversation_id: conversation.id });
    await ada.responses.create({ model: 'mock-agent', conversation: { id: conversation.id }, input: 'What do I like?' });
    expect(prompt().map((message) => message.content)).toContain('Remember: I like tea.');
    expect(prompt().map((message) => message.content)).not.toContain('Forget this one.');

    expect(await ada.conversations.update(conversation.id, { metadata: { topic: 'tea' } })).toMatchObject({ metadata: { topic: 'tea' } });
  });

  it('works on the embedded model as on a provider: the SDK runs the same calls', async () => {
    const uma = clientFor('uma-7');
    const conversation = await uma.conversations.create({ items: [{ type: 'message', role: 'user', content: 'Which sights are in Beijing?' }] });
    const answered = await uma.responses.create({ model: 'extractive', conversation: conversation.id, input: 'And in Shanghai?' });
    expect(answered).toMatchObject({ status: 'completed', conversation: { id: conversation.id } });
    expect(answered.output_text.length).toBeGreaterThan(0);
    const items = await uma.conversations.items.list(conversation.id, { order: 'asc' });
    expect(texts(items.data as never)).toEqual(['Which sights are in Beijing?', 'And in Shanghai?', answered.output_text]);
  });

  it("streams a response in a conversation and keeps the exchange", async () => {
    const lin = clientFor('lin');
    const conversation = await lin.conversations.create({});
    const types: string[] = [];
    for await (const event of await lin.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'stream in a conversation', stream: true })) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
    const items = await lin.conversations.items.list(conversation.id, { order: 'asc' });
    expect(texts(items.data as never)).toEqual(['stream in a conversation', expect.stringMatching(/^Echo: stream in a conversation/)]);
  });

  it("is its user's: another user of the tenant gets 404 everywhere, a realtime token sees only its own user's", async () => {
    const ada = clientFor('ada-2');
    const bob = clientFor('bob-2');
    const conversation = await ada.conversations.create({ items: [{ type: 'message', role: 'user', content: 'secret plans' }] });
    const response = await ada.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'more secrets' });
    const refused = [
      bob.conversations.retrieve(conversation.id),
      bob.conversations.update(conversation.id, { metadata: { x: 'y' } }),
      bob.conversations.delete(conversation.id),
      bob.conversations.items.list(conversation.id),
      bob.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'hi' }] }),
      bob.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'what did ada say?' }),
      bob.responses.retrieve(response.id),
      bob.responses.delete(response.id),
      bob.responses.inputItems.list(response.id),
    ];
    for (const attempt of refused) await expect(attempt).rejects.toMatchObject({ status: 404 });
    // The key acting for nobody in particular is not ada either.
    await expect(new OpenAI({ apiKey: key, baseURL: `${access.url}/v1`, maxRetries: 0 }).conversations.retrieve(conversation.id)).rejects.toMatchObject({ status: 404 });
    // The tenant's admin key (support, erasure) reads it without naming anyone; another tenant's admin key does not.
    const { key: adminKey } = await createKey(access, ADMIN_TOKEN, { models: ['mock-agent'], admin: true });
    const support = new OpenAI({ apiKey: adminKey, baseURL: `${access.url}/v1`, maxRetries: 0 });
    expect(await support.conversations.retrieve(conversation.id)).toMatchObject({ id: conversation.id, title: 'secret plans' });
    expect((await support.responses.retrieve(response.id)).id).toBe(response.id);
    const { key: foreignAdmin } = await createKey(access, ADMIN_TOKEN, { tenantId: 'other-tenant', models: ['mock-agent'], admin: true });
    await expect(new OpenAI({ apiKey: foreignAdmin, baseURL: `${access.url}/v1`, maxRetries: 0 }).conversations.retrieve(conversation.id)).rejects.toMatchObject({ status: 404 });
    // chat completions' session_id: the conversation is not bob's to continue.
    const stolen = await call('/v1/chat/completions', key, { method: 'POST', body: JSON.stringify({ model: 'mock-agent', session_id: conversation.id, user: 'bob-2', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(stolen.status).toBe(403);

    // A browser with ada's realtime token lists and reads ada's conversations, and nothing of bob's.
    const bobs = await bob.conversations.create({ items: [{ type: 'message', role: 'user', content: "bob's own" }] });
    const token = await realtimeToken('ada-2');
    const listed = (await (await call('/v1/conversations', token)).json()) as { data: { id: string; title: string }[] };
    expect(listed.data.map((c) => c.id)).toEqual([conversation.id]);
    expect(listed.data[0]!.title).toBe('secret plans');
    expect((await call(`/v1/conversations/${conversation.id}/items`, token)).status).toBe(200);
    expect((await call(`/v1/conversations/${bobs.id}`, token)).status).toBe(404);
    expect((await call('/v1/conversations', token, { headers: { 'x-user-id': 'bob-2' } })).status).toBe(403);
    // Profiles the same way: ada's token reads ada's, not bob's.
    expect((await call('/v1/users/ada-2/profile', token, { method: 'PUT', body: JSON.stringify({ displayName: 'Ada' }) })).status).toBe(200);
    expect((await call('/v1/users/bob-2/profile', token)).status).toBe(404);
    expect((await call('/v1/users/bob-2/profile', token, { method: 'PUT', body: JSON.stringify({ displayName: 'Mallory' }) })).status).toBe(404);
    expect((await call('/v1/users/bob-2/profile', key)).status).toBe(404);
  });

  it('lists its user\'s conversations most recently changed first, and exports them all with the profile', async () => {
    const kim = clientFor('kim-3');
    const first = await kim.conversations.create({ items: [{ type: 'message', role: 'user', content: 'first topic' }] });
    const second = await kim.conversations.create({ items: [{ type: 'message', role: 'user', content: 'second topic' }] });
    await kim.conversations.items.create(first.id, { items: [{ type: 'message', role: 'user', content: 'back to the first' }] });
    const listed = (await (await call('/v1/conversations', key, { headers: { 'x-user-id': 'kim-3' } })).json()) as { data: { id: string }[]; has_more: boolean };
    expect(listed.data.map((c) => c.id)).toEqual([first.id, second.id]);
    const exported = (await (await call('/v1/users/kim-3/export', await realtimeToken('kim-3'))).json()) as { conversations: { id: string; items: unknown[] }[] };
    expect(exported.conversations.map((c) => [c.id, texts(c.items as never)])).toEqual([
      [first.id, ['first topic', 'back to the first']],
      [second.id, ['second topic']],
    ]);
  });

  it('deleted, leaves nothing: no items, no responses, no tasks, nothing in a later prompt', async () => {
    const eve = clientFor('eve-4');
    const conversation = await eve.conversations.create({ items: [{ type: 'message', role: 'user', content: 'my password hint is rosebud' }] });
    const response = await eve.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'remember it' });
    const taskId = response.id.replace(/^resp_/, '');
    expect((await call(`/v1/tasks/${taskId}`, key)).status).toBe(200);

    expect(await eve.conversations.delete(conversation.id)).toMatchObject({ id: conversation.id, object: 'conversation.deleted', deleted: true });
    await expect(eve.conversations.retrieve(conversation.id)).rejects.toMatchObject({ status: 404 });
    await expect(eve.conversations.items.list(conversation.id)).rejects.toMatchObject({ status: 404 });
    await expect(eve.responses.retrieve(response.id)).rejects.toMatchObject({ status: 404 });
    await expect(eve.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'what was the hint?' })).rejects.toMatchObject({ status: 404, param: 'conversation' });
    expect((await call(`/v1/tasks/${taskId}`, key)).status).toBe(404);
    // The same id as a chat session starts afresh: the old words never reach the provider again.
    const again = await call('/v1/chat/completions', key, { method: 'POST', body: JSON.stringify({ model: 'mock-agent', session_id: conversation.id, user: 'eve-4', messages: [{ role: 'user', content: 'what was the hint?' }] }) });
    expect(again.status).toBe(200);
    expect(JSON.stringify(prompt())).not.toContain('rosebud');
  });

  it('keeps a long conversation within the budget: the turns that leave it are summarised by the model, never dropped without a word', async () => {
    const zoe = clientFor('zoe-6');
    const long = (word: string) => `${word} `.repeat(150).trim(); // ~225 tokens
    const conversation = await zoe.conversations.create({ items: [{ type: 'message', role: 'user', content: long('alpha') }, { type: 'message', role: 'user', content: long('bravo') }] });
    const promptFor = (input: string) =>
      [...(upstream.stats().received as unknown as { messages: { role: string; content: string }[] }[])].reverse().find((body) => body.messages.at(-1)?.content === input)?.messages ?? [];

    await zoe.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'first question' });
    // "alpha" did not fit: the prompt says one message is left out, and carries "bravo".
    const first = promptFor('first question').map((message) => message.content);
    expect(first).toContain('[1 earlier message of this conversation is not shown.]');
    expect(first).toContain(long('bravo'));
    expect(first.join(' ')).not.toContain('alpha alpha');

    // After the answer the model folds "alpha" into the conversation's summary; later prompts carry it instead of the marker.
    let second: { role: string; content: string }[] = [];
    await eventually(async () => {
      await zoe.responses.create({ model: 'mock-agent', conversation: conversation.id, input: 'second question' });
      second = promptFor('second question');
      return second.some((message) => message.role === 'system' && message.content.startsWith('Summary of the earlier part of this conversation'));
    }, 'a prompt with the summary', 20_000);
    expect(second.find((message) => message.content.startsWith('Summary of the earlier part'))!.content).toContain('alpha');
    expect(second.map((message) => message.content)).not.toContain('[1 earlier message of this conversation is not shown.]');
    // The items themselves are all still there.
    expect(texts((await zoe.conversations.items.list(conversation.id, { order: 'asc', limit: 2 })).data as never)).toEqual([long('alpha'), long('bravo')]);
  });

  it('refuses what it cannot keep, with a 400 naming it', async () => {
    const ivy = clientFor('ivy-5');
    const inline = ivy.conversations.create({ items: [{ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' }] }] });
    await expect(inline).rejects.toMatchObject({ status: 400, code: 'unsupported_item', param: 'items.0' });
    await expect(ivy.conversations.items.list('conv_x', { limit: 1_000 })).rejects.toMatchObject({ status: 400, param: 'limit' });
    const conversation = await ivy.conversations.create({});
    await expect(ivy.responses.create({ model: 'mock-agent', conversation: conversation.id, previous_response_id: 'resp_x', input: 'x' })).rejects.toMatchObject({ status: 400, param: 'previous_response_id' });
    expect((await call('/v1/conversations', key, { headers: { 'x-user-id': 'u'.repeat(200) } })).status).toBe(400);
  });
});
