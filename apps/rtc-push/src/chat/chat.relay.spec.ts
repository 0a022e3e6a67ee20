import type { ServerFrame } from '@aip/contracts';
import type { ApiKeyRecord } from '@aip/keys';
import type { EventPublisher } from '@aip/messaging';
import type { StoredEvent, TaskEventHub, TaskStore } from '@aip/tasks';
import type { Identity } from '../auth/authenticator.ts';
import { ChatRelay } from './chat.relay.ts';

const identity: Identity = { tenantId: 't1', userId: 'u1', key: { id: 'k1' } as ApiKeyRecord, via: 'api-key' };
const options = { models: ['extractive'], defaultModel: 'extractive', defaultMaxTokens: 256, admissionDeadlineMs: 30_000, timeoutMs: 60_000 };
const tasks = { create: async () => undefined, finish: async () => true } as unknown as TaskStore;
const publisher = { publish: async () => 'msg-1' } as unknown as EventPublisher;
const hubFollowing = (follow: () => AsyncGenerator<StoredEvent>) => ({ follow }) as unknown as TaskEventHub;

async function runChat(hub: TaskEventHub) {
  const frames: ServerFrame[] = [];
  const relay = new ChatRelay(tasks, hub, publisher, options);
  const outcome = await relay.run(identity, { type: 'chat', ref: 'c1', text: 'hi' }, (frame) => (frames.push(frame), true), new AbortController().signal);
  return { outcome, frames };
}

describe('ChatRelay', () => {
  it('relays the task stream as accepted/delta/done frames carrying the ref', async () => {
    const { outcome, frames } = await runChat(
      hubFollowing(async function* () {
        yield { id: '1-0', event: { type: 'delta', text: 'Hel' } };
        yield { id: '2-0', event: { type: 'done', finishReason: 'stop', model: 'extractive', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } } };
      }),
    );
    expect(outcome).toBe('done');
    expect(frames.map((f) => [f.type, 'ref' in f ? f.ref : undefined])).toEqual([['accepted', 'c1'], ['delta', 'c1'], ['done', 'c1']]);
  });

  it('ends the chat with an "unavailable" error frame instead of rejecting when the task stream fails (Redis blip)', async () => {
    const { outcome, frames } = await runChat(
      hubFollowing(async function* () {
        yield { id: '1-0', event: { type: 'delta', text: 'Hel' } };
        throw new Error('Connection is closed.');
      }),
    );
    expect(outcome).toBe('error');
    const last = frames.at(-1);
    expect(last).toMatchObject({ type: 'error', code: 'unavailable', ref: 'c1', taskId: expect.any(String) });
    expect(JSON.stringify(last)).not.toContain('Connection is closed');
  });

  it('reports the same when the stream cannot even be subscribed to', async () => {
    const refused = { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('Connection is closed.')) }) };
    const { outcome, frames } = await runChat({ follow: () => refused } as unknown as TaskEventHub);
    expect(outcome).toBe('error');
    expect(frames.map((f) => f.type)).toEqual(['accepted', 'error']);
  });
});
