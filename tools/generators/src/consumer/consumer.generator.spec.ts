import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import consumerGenerator from './consumer.generator.ts';
import { ConsumerOptionError, readCatalog, readTopology, type ConsumerGeneratorOptions } from './plan.ts';
import { registerInModule } from './app-edits.ts';
import { planConsumer } from './plan.ts';

// The generator runs against the workspace's real contracts and apps (copied into an in-memory
// tree), so a change in their shape that the generator cannot handle fails here first.
const root = join(import.meta.dirname, '../../../..');
const real = [
  'libs/contracts/src/topology.ts',
  'libs/contracts/src/catalog.ts',
  'libs/contracts/src/schemas.ts',
  'apps/rate-limiter/src/app.module.ts',
  'apps/rate-limiter/src/main.ts',
  'apps/rate-limiter/package.json',
  'apps/inference/src/app.module.ts',
  'apps/inference/src/main.ts',
  'apps/inference/package.json',
];

let tree: Tree;

beforeEach(() => {
  tree = createTreeWithEmptyWorkspace();
  for (const file of real) tree.write(file, readFileSync(join(root, file), 'utf8'));
  // An app that consumes nothing: access as it starts, without its consumers.
  const edgeMain = readFileSync(join(root, 'apps/access/src/main.ts'), 'utf8').split('\n').filter((line) => !/consumers:|usage ledger's writer/.test(line)).join('\n');
  tree.write('apps/edge/src/main.ts', edgeMain);
  tree.write('apps/edge/package.json', readFileSync(join(root, 'apps/access/package.json'), 'utf8').replace('@aip/access', '@aip/edge'));
});

const generate = (options: Partial<ConsumerGeneratorOptions>) =>
  consumerGenerator(tree, { event: 'billing.usage.recorded', topic: 'billing-usage', messageType: 'NORMAL', app: 'rate-limiter', skipAsyncApi: true, ...options });
const text = (file: string) => tree.read(file, 'utf-8') ?? '';

describe('nx g @aip/generators:consumer', () => {
  it('declares a new topic and event in the contracts and registers the handler in the app module', async () => {
    await generate({});
    expect(readTopology(text('libs/contracts/src/topology.ts')).topics).toContainEqual({ key: 'billingUsage', name: 'billing-usage', messageType: 'NORMAL' });
    // The app's own group already exists: nothing new in CONSUMER_GROUPS.
    expect(readTopology(text('libs/contracts/src/topology.ts')).groups).toEqual(readTopology(readFileSync(join(root, 'libs/contracts/src/topology.ts'), 'utf8')).groups);
    expect(readCatalog(text('libs/contracts/src/catalog.ts')).events).toContainEqual({ type: 'billing.usage.recorded', topic: 'billingUsage', tag: 'recorded' });
    expect(text('libs/contracts/src/catalog.ts')).toContain(`consumers: ['rateLimiter']`);
    expect(text('libs/contracts/src/catalog.ts')).toMatch(/import \{ billingUsageRecorded \} from '\.\/events\/billing\.schema\.ts';/);
    expect(text('libs/contracts/src/events/billing.schema.ts')).toContain('export const billingUsageRecorded = z.object({');
    expect(text('libs/contracts/src/schemas.ts')).toContain(`export * from './events/billing.schema.ts';`);

    const module = text('apps/rate-limiter/src/app.module.ts');
    expect(module).toMatch(/controllers: \[AdmissionConsumer, HealthController, OpenApiController, UsageRecordedConsumer\]/);
    // Appended as the module's last provider, after the document watches.
    expect(module).toMatch(/documentWatch\('routing'[\s\S]*\}\),\n\s+UsageRecordedService,\n\s+\]/);
    expect(module).toContain(`import { UsageRecordedConsumer } from './billing/usage-recorded.consumer.ts';`);
    expect(text('apps/rate-limiter/src/billing/usage-recorded.consumer.ts')).toContain(`@RocketMQEvent('billing.usage.recorded')\n  onUsageRecorded(@Payload() event: Envelope<'billing.usage.recorded'>)`);
    expect(tree.exists('apps/rate-limiter/src/billing/usage-recorded.consumer.spec.ts')).toBe(true);
    expect(text('apps/rate-limiter/src/billing/usage-recorded.int-spec.ts')).toContain(`publisher.publish('billing.usage.recorded'`);
    expect(readJson(tree, 'apps/rate-limiter/package.json').nx.targets).toMatchObject({ build: {}, lint: {}, test: {}, 'int-test': {} });
    expect(tree.exists('apps/rate-limiter/jest.int.config.mjs')).toBe(true);
  });

  it('puts a handler on an existing topic under a new consumer group, declared for the broker bootstrap', async () => {
    await generate({ event: 'ai.inference.audited', topic: 'ai-lifecycle', messageType: undefined, app: 'inference', group: 'audit' });
    expect(readTopology(text('libs/contracts/src/topology.ts')).groups).toContainEqual({ key: 'audit', name: 'audit', orderly: false });
    expect(readTopology(text('libs/contracts/src/topology.ts')).topics.filter((t) => t.name === 'ai-lifecycle')).toHaveLength(1);
    const consumer = text('apps/inference/src/ai/inference-audited.consumer.ts');
    expect(consumer).toContain(`@RocketMQEvent('ai.inference.audited', { group: groupOf('audit').name })`);
    expect(text('apps/inference/src/ai/inference-audited.int-spec.ts')).toContain(`const group = groupOf('audit').name;`);
  });

  it('gives a new FIFO topic an orderly group and a message group per subject', async () => {
    await generate({ event: 'billing.invoice.issued', topic: 'billing-invoice', messageType: 'FIFO', group: 'billing' });
    expect(readTopology(text('libs/contracts/src/topology.ts')).groups).toContainEqual({ key: 'billing', name: 'billing', orderly: true });
    expect(text('libs/contracts/src/catalog.ts')).toContain('messageGroup: (d) => d.invoiceId,');
  });

  it('appends a second event of a domain to the same schema file and import', async () => {
    await generate({});
    await generate({ event: 'billing.invoice.issued', tag: 'issued' });
    expect(text('libs/contracts/src/events/billing.schema.ts').match(/^import \{ z \} from 'zod';$/gm)).toHaveLength(1);
    expect(text('libs/contracts/src/events/billing.schema.ts')).toContain('export const billingInvoiceIssued');
    expect(text('libs/contracts/src/catalog.ts')).toContain(`import { billingUsageRecorded, billingInvoiceIssued } from './events/billing.schema.ts';`);
    expect(readTopology(text('libs/contracts/src/topology.ts')).topics.filter((t) => t.name === 'billing-usage')).toHaveLength(1);
  });

  it.each([
    [{ event: 'ai.request.submitted', topic: 'ai-request', messageType: undefined }, /already declared/],
    [{ event: 'Billing Usage' }, /--event "Billing Usage" is not an event type/],
    [{ topic: 'billing.usage', messageType: 'NORMAL' as const }, /neither an existing topic .* nor a valid new topic name/],
    [{ messageType: undefined }, /--topic billing-usage is new: say its message type with --messageType/],
    [{ topic: 'aiLifecycle', messageType: 'FIFO' as const }, /does not match topic ai-lifecycle, which is NORMAL/],
    [{ topic: 'ai-lifecycle', messageType: undefined, tag: 'completed' }, /--tag completed is already used on topic ai-lifecycle by ai.inference.completed/],
    [{ app: 'billing' }, /--app "billing" is not an app under apps\//],
    [{ app: 'edge' }, /--app edge consumes nothing/],
    [{ topic: 'rtc-push', messageType: undefined }, /topic rtc-push is FIFO but group rate-limiter is not orderly/],
  ])('refuses %j with a message naming the option', async (options, message) => {
    const before = text('libs/contracts/src/catalog.ts');
    await expect(generate(options)).rejects.toThrow(ConsumerOptionError);
    await expect(generate(options)).rejects.toThrow(message);
    expect(text('libs/contracts/src/catalog.ts')).toBe(before);
  });

  it('does not overwrite an existing handler', async () => {
    tree.write('apps/rate-limiter/src/billing/usage-recorded.consumer.ts', '// written by hand\n');
    await expect(generate({})).rejects.toThrow(/usage-recorded.consumer.ts already exists/);
    expect(text('apps/rate-limiter/src/billing/usage-recorded.consumer.ts')).toBe('// written by hand\n');
  });
});

describe('module registration', () => {
  const plan = planConsumer(
    { event: 'billing.usage.recorded', topic: 'aiLifecycle', app: 'x' },
    {
      topology: { topics: [{ key: 'aiLifecycle', name: 'ai-lifecycle', messageType: 'NORMAL' }], groups: [] },
      catalog: { events: [] },
      apps: ['x'],
      serverGroup: () => 'x',
      exists: () => false,
    },
  );

  it('handles @Module({ controllers: [] }) with no providers', () => {
    const out = registerInModule(`import { Module } from '@nestjs/common';\n\n@Module({ controllers: [] })\nexport class AppModule {}\n`, plan, 'app.module.ts');
    expect(out).toContain('@Module({ controllers: [UsageRecordedConsumer], providers: [UsageRecordedService] })');
    expect(out).toMatch(/^import \{ Module \} from '@nestjs\/common';\nimport \{ UsageRecordedConsumer \} from '\.\/billing\/usage-recorded\.consumer\.ts';\nimport \{ UsageRecordedService \} from '\.\/billing\/usage-recorded\.service\.ts';/);
  });

  it('refuses a module it cannot edit safely', () => {
    expect(() => registerInModule(`@Module({ imports: [] })\nexport class AppModule {}\n`, plan, 'app.module.ts')).toThrow(/no module metadata with `controllers/);
  });
});
