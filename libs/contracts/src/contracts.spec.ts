import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  asyncApiDocument,
  brokerTopology,
  CONSUMER_GROUPS,
  eventTagOf,
  laneGroup,
  laneTag,
  createEnvelope,
  EnvelopeError,
  EVENT_TYPES,
  EVENTS,
  eventForTag,
  parseEnvelope,
  schemas,
  TOPICS,
  topicOf,
  type AnyEnvelope,
} from './index.ts';

const submitted = {
  taskId: 't-1',
  apiKeyId: 'k-1',
  model: 'extractive',
  messages: [{ role: 'user' as const, content: 'Which sights should I see in Beijing?' }],
  maxTokens: 256,
  stream: true,
  deadline: '2026-11-22T00:00:30.000Z',
  estimatedPromptTokens: 12,
};

describe('topology', () => {
  it('uses only characters RocketMQ accepts in topic and group names', () => {
    const { topics, groups } = brokerTopology();
    for (const { name } of [...topics, ...groups]) expect(name).toMatch(/^[A-Za-z0-9_|%-]+$/);
  });

  it('declares the FIFO topics of the architecture, and every FIFO event names its message group', () => {
    expect(TOPICS.kbChange.messageType).toBe('FIFO');
    expect(TOPICS.rtcPush.messageType).toBe('FIFO');
    for (const type of EVENT_TYPES) {
      const fifo = topicOf(type).messageType === 'FIFO';
      expect({ type, hasGroup: 'messageGroup' in EVENTS[type] }).toEqual({ type, hasGroup: fifo });
    }
  });

  it('gives each (topic, tag) pair exactly one event type', () => {
    const pairs = EVENT_TYPES.map((type) => `${topicOf(type).name}/${EVENTS[type].tag}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(eventForTag('ai-request', 'submitted')).toBe('ai.request.submitted');
    expect(eventForTag('ai-request', 'nope')).toBeUndefined();
  });

  it('turns max attempts into broker retry counts', () => {
    expect(brokerTopology().groups.find((g) => g.name === 'inference')).toEqual({ name: 'inference', orderly: false, retryMaxTimes: 2 });
  });

  it('creates the lane groups of a laned group with its settings, and marks lane tags reversibly', () => {
    const lanes = brokerTopology().groups.filter((g) => g.name.startsWith('inference-lane-'));
    expect(lanes).toHaveLength(CONSUMER_GROUPS.inference.lanes);
    expect(lanes[7]).toEqual({ name: laneGroup('inference', 7), orderly: false, retryMaxTimes: 2 });
    expect(laneGroup('inference', 7)).toBe('inference-lane-07');
    expect(laneTag('admitted', 7)).toBe('admitted@lane-7');
    expect(eventTagOf(laneTag('admitted', 7))).toBe('admitted');
    expect(eventTagOf('admitted')).toBe('admitted');
  });
});

describe('envelope', () => {
  const options = { source: 'access', tenantId: 'acme' };

  it('round-trips through JSON with defaults applied and the current version', () => {
    const envelope = createEnvelope('ai.request.submitted', submitted, options);
    expect(envelope).toMatchObject({ type: 'ai.request.submitted', version: 1, tenantId: 'acme', data: { priority: 5 } });
    expect(parseEnvelope(JSON.stringify(envelope), 'ai.request.submitted')).toEqual(envelope);
  });

  it('narrows data by type', () => {
    const envelope: AnyEnvelope = parseEnvelope(JSON.stringify(createEnvelope('kb.change.delete', { kbId: 'kb', docId: 'd' }, options)));
    const group = envelope.type === 'kb.change.delete' ? EVENTS[envelope.type].messageGroup?.(envelope.data) : undefined;
    expect(group).toBe('kb:d');
  });

  it('refuses to build an envelope around a bad payload', () => {
    expect(() => createEnvelope('ai.request.submitted', { ...submitted, messages: [] }, options)).toThrow();
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['no envelope', '{"hello":1}', /malformed envelope/],
    ['unknown type', JSON.stringify({ ...createEnvelope('kb.change.delete', { kbId: 'k', docId: 'd' }, options), type: 'x.y' }), /unknown event type "x.y"/],
    ['unaccepted version', JSON.stringify({ ...createEnvelope('kb.change.delete', { kbId: 'k', docId: 'd' }, options), version: 9 }), /version 9 .* not accepted/],
    ['bad data', JSON.stringify({ ...createEnvelope('kb.change.delete', { kbId: 'k', docId: 'd' }, options), data: { kbId: '' } }), /invalid data/],
  ])('rejects %s with a structured EnvelopeError', (_case, body, message) => {
    const attempt = () => parseEnvelope(body);
    expect(attempt).toThrow(EnvelopeError);
    expect(attempt).toThrow(message);
  });

  it('names the failing fields', () => {
    const body = JSON.stringify({ ...createEnvelope('kb.change.delete', { kbId: 'k', docId: 'd' }, options), data: { kbId: 'k' } });
    try {
      parseEnvelope(body);
      throw new Error('expected a failure');
    } catch (error) {
      expect((error as EnvelopeError).issues).toEqual([expect.objectContaining({ path: 'data.docId' })]);
    }
  });

  it('rejects an event of another type where one type is expected', () => {
    const body = JSON.stringify(createEnvelope('kb.change.delete', { kbId: 'k', docId: 'd' }, options));
    expect(() => parseEnvelope(body, 'kb.change.upsert')).toThrow(/expected event type "kb.change.upsert"/);
  });

  it('requires exactly one of inline content and content reference on upserts', () => {
    const base = { kbId: 'k', docId: 'd', mediaType: 'text/plain' };
    expect(() => createEnvelope('kb.change.upsert', base, options)).toThrow(/exactly one of content and contentRef/);
    expect(() => createEnvelope('kb.change.upsert', { ...base, content: 'a', contentRef: 'file:///a' }, options)).toThrow();
    expect(createEnvelope('kb.change.upsert', { ...base, content: 'a' }, options).data.content).toBe('a');
  });
});

describe('message parts', () => {
  const message = (parts: unknown[]) => schemas.chatMessage.safeParse({ role: 'user', content: 'What is this?', parts });
  const ref = { key: `${'a'.repeat(32)}/task-1/0`, mediaType: 'image/png', bytes: 68 };

  it('carry images by https URL or by claim-check reference, never inline bytes', () => {
    expect(message([{ type: 'text', text: 'What is this?' }, { type: 'image', url: 'https://example.com/cat.png', detail: 'low' }, { type: 'image', ref }]).success).toBe(true);
    expect(message([{ type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' }]).success).toBe(false);
    expect(message([{ type: 'image', url: 'http://example.com/cat.png' }]).success).toBe(false);
    expect(message([{ type: 'image', url: 'https://example.com/cat.png', ref }]).success).toBe(false);
    expect(message([{ type: 'image' }]).success).toBe(false);
    expect(message([{ type: 'image', ref: { ...ref, key: '../../etc/passwd' } }]).success).toBe(false);
  });
});

describe('AsyncAPI document', () => {
  it('matches the checked-in docs/asyncapi.yaml (run `npm run asyncapi` after changing contracts)', () => {
    const checkedIn = parse(readFileSync(new URL('../../../docs/asyncapi.yaml', import.meta.url), 'utf8'));
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(asyncApiDocument())));
  });

  it('documents every topic and every event', () => {
    const doc = asyncApiDocument() as { channels: Record<string, unknown>; components: { messages: Record<string, unknown> } };
    expect(Object.keys(doc.channels).sort()).toEqual(Object.values(TOPICS).map((t) => t.name).sort());
    expect(Object.keys(doc.components.messages)).toHaveLength(EVENT_TYPES.length);
  });
});
