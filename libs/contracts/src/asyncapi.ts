import { z } from 'zod';
import { EVENTS, EVENT_TYPES, type EventType } from './catalog.ts';
import { envelopeHeaderSchema } from './envelope.ts';
import { CONSUMER_GROUPS, TOPICS } from './topology.ts';

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const messageName = (type: EventType) => type.replaceAll('.', '_');

/**
 * The AsyncAPI 3 document of every topic, generated from the contracts. The checked-in copy is
 * docs/asyncapi.yaml (regenerate with `npm run asyncapi`); a test fails when the two differ.
 */
export function asyncApiDocument(): Record<string, unknown> {
  const envelope = jsonSchema(envelopeHeaderSchema.omit({ data: true }));
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const [key, topic] of Object.entries(TOPICS)) {
    const types = EVENT_TYPES.filter((type) => EVENTS[type].topic === key);
    channels[topic.name] = {
      address: topic.name,
      description: topic.description,
      messages: Object.fromEntries(types.map((type) => [messageName(type), { $ref: `#/components/messages/${messageName(type)}` }])),
      bindings: { 'x-rocketmq': { messageType: topic.messageType, tags: types.map((type) => EVENTS[type].tag) } },
    };
    operations[`publish_${topic.name.replaceAll('-', '_')}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${topic.name}` },
    };
  }

  for (const type of EVENT_TYPES) {
    const spec = EVENTS[type];
    messages[messageName(type)] = {
      name: type,
      title: type,
      summary: spec.summary,
      contentType: 'application/json',
      payload: {
        allOf: [
          { $ref: '#/components/schemas/Envelope' },
          {
            type: 'object',
            properties: { type: { const: type }, version: { const: spec.version }, data: jsonSchema(spec.schema) },
            required: ['type', 'version', 'data'],
          },
        ],
      },
      bindings: {
        'x-rocketmq': {
          tag: spec.tag,
          messageGroup: spec.messageGroup ? 'required' : 'none',
          consumerGroups: spec.consumers.map((group) => CONSUMER_GROUPS[group].name),
        },
      },
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'AI platform events',
      version: '1.0.0',
      description: 'Every topic, tag and payload of the platform. Generated from libs/contracts: do not edit by hand.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas: { Envelope: envelope }, messages },
  };
}
