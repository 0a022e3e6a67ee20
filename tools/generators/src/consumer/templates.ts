// The files generated in the target app. Each follows the house style: a thin consumer (the
// transport validates, acks, retries, dead-letters), the work in a service, a unit spec beside
// them and an integration spec that goes through the real broker.
import { quote } from './contract-edits.ts';
import type { ConsumerPlan } from './plan.ts';

const names = (plan: ConsumerPlan) => ({
  consumer: `${plan.className}Consumer`,
  service: `${plan.className}Service`,
  type: `Envelope<${quote(plan.event)}>`,
  event: quote(plan.event),
});

/** `{ group: groupOf('billing').name }` when the handler's group is not the app's server group. */
const extras = (plan: ConsumerPlan) => (plan.group.isServerGroup ? '' : `, { group: groupOf(${quote(plan.group.key)}).name }`);

export function consumerFile(plan: ConsumerPlan): string {
  const n = names(plan);
  const contractsImport = plan.group.isServerGroup ? `import type { Envelope } from '@aip/contracts';` : `import { groupOf, type Envelope } from '@aip/contracts';`;
  return `import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
${contractsImport}
import { RocketMQEvent } from '@aip/messaging';
import { ${n.service} } from './${plan.feature}.service.ts';

/**
 * \`${plan.event}\` (topic ${plan.topic.name}, tag ${plan.tag}) for consumer group ${plan.group.name}.
 * The transport subscribes, validates the envelope against the contract, acks when the handler
 * resolves, retries with backoff when it throws and dead-letters after the group's last attempt.
 */
@Controller()
export class ${n.consumer} {
  constructor(@Inject(${n.service}) private readonly service: ${n.service}) {}

  @RocketMQEvent(${n.event}${extras(plan)})
  ${plan.method}(@Payload() event: ${n.type}) {
    return this.service.handle(event);
  }
}
`;
}

export function serviceFile(plan: ConsumerPlan): string {
  const n = names(plan);
  return `import { Injectable } from '@nestjs/common';
import type { Envelope } from '@aip/contracts';

/** What the app does with each \`${plan.event}\` event. */
@Injectable()
export class ${n.service} {
  /**
   * Resolve to ack; throw to have the transport retry with backoff. Until this is written every
   * event fails, so nothing is acked and lost: after the group's last attempt the broker keeps it
   * in %DLQ%${plan.group.name} (\`npm run broker -- dlq replay ${plan.group.name} --all\` re-publishes it).
   */
  async handle(event: ${n.type}): Promise<void> {
    throw new Error(\`${n.service}.handle is not written yet (event \${event.id} stays on the broker)\`);
  }
}
`;
}

export function unitSpecFile(plan: ConsumerPlan): string {
  const n = names(plan);
  return `import { createEnvelope, EVENTS, type Envelope } from '@aip/contracts';
import { ${n.consumer} } from './${plan.feature}.consumer.ts';
import type { ${n.service} } from './${plan.feature}.service.ts';

const options = { source: 'test', tenantId: 'acme' };
const anEvent = () => createEnvelope(${n.event}, { ${plan.keyField}: '${plan.keyField.replace(/Id$/, '')}-1' }, options);

function consumerWith(handle: (event: ${n.type}) => Promise<void>) {
  return new ${n.consumer}({ handle } as ${n.service});
}

describe('${n.consumer}', () => {
  it('hands the validated event to the service', async () => {
    const handled: ${n.type}[] = [];
    const event = anEvent();
    await consumerWith(async (received) => void handled.push(received)).${plan.method}(event);
    expect(handled).toEqual([event]);
  });

  it('fails when the service fails, so the transport retries instead of acking', async () => {
    const consumer = consumerWith(async () => {
      throw new Error('store unavailable');
    });
    await expect(consumer.${plan.method}(anEvent())).rejects.toThrow('store unavailable');
  });

  it('is declared on its topic and tag, and producers cannot publish an invalid payload', () => {
    expect({ topic: EVENTS[${n.event}].topic, tag: EVENTS[${n.event}].tag }).toEqual({ topic: ${quote(plan.topic.key)}, tag: ${quote(plan.tag)} });
    expect(() => createEnvelope(${n.event}, { ${plan.keyField}: '' }, options)).toThrow();
  });
});
`;
}

export function intSpecFile(plan: ConsumerPlan): string {
  const n = names(plan);
  // A handler on the app's server group runs here under a group of its own, so a running app
  // instance cannot take the test's message; a handler with an explicit group keeps that group.
  const groupSetup = plan.group.isServerGroup
    ? `const group = uniqueName('it-${plan.feature}');

beforeAll(async () => {
  await provisionBroker([], [{ name: group, orderly: ${plan.group.orderly}, retryMaxTimes: 2 }]);`
    : `// The handler declares its own group (${plan.group.name}); the integration setup created it from the contracts.
const group = groupOf(${quote(plan.group.key)}).name;

beforeAll(async () => {`;
  return `import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ${plan.group.isServerGroup ? '' : 'groupOf, '}type Envelope } from '@aip/contracts';
import { EventPublisher, MessagingMetrics, RocketMQServer } from '@aip/messaging';
import { Collector, eventually, ${plan.group.isServerGroup ? 'provisionBroker, ' : ''}testConnection, uniqueName } from '@aip/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ${n.consumer} } from './${plan.feature}.consumer.ts';
import { ${n.service} } from './${plan.feature}.service.ts';

// ${plan.event} goes through the real broker on its real topic (${plan.topic.name}), which the
// integration setup creates from the contracts; the service is replaced by a recorder, so the test
// waits for the effect a user relies on: the validated event reaches the app's service.
const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const handled = new Collector<${n.type}>();
let app: INestMicroservice;
let publisher: EventPublisher;

${groupSetup}
  @Module({
    controllers: [${n.consumer}],
    providers: [{ provide: ${n.service}, useValue: { handle: async (event: ${n.type}) => void handled.push(event) } }],
  })
  class TestModule {}
  const strategy = new RocketMQServer({ connection: testConnection(), group, logger, metrics: MessagingMetrics.for(new Registry()) });
  app = await NestFactory.createMicroservice(TestModule, { logger: false, strategy });
  await app.listen();
  publisher = new EventPublisher({ connection: testConnection(), source: 'it', logger, metrics: MessagingMetrics.for(new Registry()) });
});

afterAll(async () => {
  await app?.close();
  await publisher?.close();
});

describe('${n.consumer} on the real broker', () => {
  it('receives a published ${plan.event} as a validated envelope', async () => {
    const tenantId = uniqueName('tenant');
    const { envelope } = await publisher.publish(${n.event}, { ${plan.keyField}: uniqueName('${plan.keyField.replace(/Id$/, '')}') }, { tenantId });
    // Other runs' events may arrive too (the topic is shared): wait for ours.
    await eventually(() => handled.items.some((event) => event.id === envelope.id), 'the event to reach the service', 60_000);
    expect(handled.items.find((event) => event.id === envelope.id)).toEqual(envelope);
  });
});
`;
}
