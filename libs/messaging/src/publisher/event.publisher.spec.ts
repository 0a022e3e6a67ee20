import { jest } from '@jest/globals';
import { TOPICS } from '@aip/contracts';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Producer, type SendReceipt } from 'rocketmq-client-nodejs';
import { MessagingMetrics } from '../metrics/messaging.metrics.ts';
import { EventPublisher, toPublishError } from './event.publisher.ts';

const failure = (code: number) => Object.assign(new Error(`status ${code}`), { code });

describe('toPublishError', () => {
  it('treats throttling (42900) as retryable, like a broker outage', () => {
    expect(toPublishError(failure(42_900), 'ai.request.submitted', 'ai-request')).toMatchObject({ code: 'THROTTLED', retryable: true });
    expect(toPublishError(new Error('14 UNAVAILABLE: No connection established'), 'ai.request.submitted', 'ai-request')).toMatchObject({ code: 'BROKER_UNAVAILABLE', retryable: true });
  });

  it('treats a refused message (bad group, bad key, too large) as not retryable', () => {
    for (const code of [40_005, 40_006, 41_301]) expect(toPublishError(failure(code), 'kb.change.upsert', 'kb-change')).toMatchObject({ code: 'REJECTED', retryable: false });
    expect(toPublishError(new TypeError('message type mismatch'), 'kb.change.upsert', 'kb-change')).toMatchObject({ code: 'REJECTED', retryable: false });
  });
});

// The client's Producer with its network calls stubbed: what the publisher hands it.
describe('EventPublisher and broker namespaces', () => {
  type Sent = Parameters<Producer['send']>[0];
  let sent: Sent[];
  let namespaces: string[];
  const publishers: EventPublisher[] = [];

  beforeEach(() => {
    // The client's constructor starts an idle-connection timer: on the fake clock, it never runs.
    jest.useFakeTimers();
    sent = [];
    namespaces = [];
    jest.spyOn(Producer.prototype, 'startup').mockImplementation(async function (this: Producer) {
      namespaces.push((this as unknown as { namespace: string }).namespace);
    });
    jest.spyOn(Producer.prototype, 'send').mockImplementation(async (message: Sent) => {
      sent.push(message);
      return { messageId: `m${sent.length}` } as SendReceipt;
    });
    jest.spyOn(Producer.prototype, 'shutdown').mockResolvedValue(undefined);
  });

  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((publisher) => publisher.close()));
    jest.restoreAllMocks();
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  const publisher = (namespace?: string) => {
    const created = new EventPublisher({
      connection: { endpoints: '127.0.0.1:8081', ...(namespace === undefined ? {} : { namespace }) },
      source: 'spec',
      logger: pino({ level: 'silent' }),
      metrics: MessagingMetrics.for(new Registry()),
    });
    publishers.push(created);
    return created;
  };

  it("publishes to the event's topic in the namespace, and never gives the client a namespace of its own", async () => {
    await publisher('run-7').publish('kb.document.deleted', { kbId: 'kb', docId: 'doc-1' }, { tenantId: 'acme' });
    expect(sent).toEqual([expect.objectContaining({ topic: `run-7_${TOPICS.kbLifecycle.name}`, tag: 'deleted' })]);
    expect(namespaces).toEqual(['']);
  });

  it("keeps the contracts' topic without a namespace", async () => {
    await publisher().publish('kb.document.deleted', { kbId: 'kb', docId: 'doc-1' }, { tenantId: 'acme' });
    expect(sent.map((message) => message.topic)).toEqual(['kb-lifecycle']);
  });

  it('puts a topic given with the event in the namespace too; message group, key and lane tag are unchanged', async () => {
    await publisher('run-7').publish('kb.change.upsert', { kbId: 'kb', docId: 'doc-1', mediaType: 'text/plain', content: 'x' }, { tenantId: 'acme', topic: 'kb-change-copy' });
    await publisher('run-7').publish('kb.document.deleted', { kbId: 'kb', docId: 'doc-2' }, { tenantId: 'acme', lane: 4 });
    expect(sent).toEqual([
      expect.objectContaining({ topic: 'run-7_kb-change-copy', tag: 'upsert', messageGroup: 'kb:doc-1', keys: ['doc-1'] }),
      expect.objectContaining({ topic: 'run-7_kb-lifecycle', tag: 'deleted@lane-4' }),
    ]);
  });

  it('refuses a namespace the broker could not take', () => {
    expect(() => publisher('no spaces')).toThrow(/broker namespace "no spaces"/);
  });
});
