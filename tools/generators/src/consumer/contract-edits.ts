// Edits of libs/contracts: the event's schema, its entry in EVENTS, and (when new) its topic and
// consumer group in topology.ts. The broker bootstrap and the AsyncAPI writer read these, so a
// new topic or group reaches the broker and docs/asyncapi.yaml without further steps.
import type { ConsumerPlan } from './plan.ts';
import { addNamedImports, appendElement, applySplices, constObject, exportedConsts, parse, SourceEditError } from './source-edit.ts';

export const quote = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

export function addTopic(text: string, plan: ConsumerPlan, file = 'topology.ts'): string {
  if (!plan.topic.isNew) return text;
  const source = parse(file, text);
  const { key, name, messageType, description } = plan.topic;
  const entry = `${key}: { name: ${quote(name)}, messageType: ${quote(messageType)}, description: ${quote(description)} }`;
  return applySplices(text, appendElement(text, constObject(source, 'TOPICS'), entry));
}

export function addGroup(text: string, plan: ConsumerPlan, file = 'topology.ts'): string {
  if (!plan.group.isNew) return text;
  const source = parse(file, text);
  const { key, name, orderly } = plan.group;
  const attempts = /\bconst DEFAULT_MAX_ATTEMPTS\b/.test(text) ? 'DEFAULT_MAX_ATTEMPTS' : '16';
  const description = `Consumes ${plan.event} in ${plan.app.dir}.`;
  const entry = `${key}: { name: ${quote(name)}, orderly: ${orderly}, maxAttempts: ${attempts}, description: ${quote(description)} }`;
  return applySplices(text, appendElement(text, constObject(source, 'CONSUMER_GROUPS'), entry));
}

export function addEvent(text: string, plan: ConsumerPlan, file = 'catalog.ts'): string {
  const source = parse(file, text);
  const events = constObject(source, 'EVENTS');
  const fifo = plan.topic.messageType === 'FIFO';
  const lines = [
    `${quote(plan.event)}: event({`,
    `  topic: ${quote(plan.topic.key)}, tag: ${quote(plan.tag)}, schema: ${plan.schemaName}, consumers: [${quote(plan.group.key)}],`,
    ...(fifo ? [`  messageGroup: (d) => d.${plan.keyField},`] : []),
    `  key: (d) => d.${plan.keyField}, summary: ${quote(plan.summary)},`,
    `})`,
  ];
  return applySplices(text, [
    ...addNamedImports(text, source, `./events/${plan.domain}.schema.ts`, [plan.schemaName], false, (module) => module.startsWith('./events/')),
    ...appendElement(text, events, lines.join('\n')),
  ]);
}

/** schemas.ts re-exports every events file (`schemas.billingUsageRecorded`). */
export function addSchemaExport(text: string, plan: ConsumerPlan): string {
  const line = `export * from './events/${plan.domain}.schema.ts';`;
  return text.includes(line) ? text : `${text.trimEnd()}\n${line}\n`;
}

/** The events file with the new schema: created, or the schema appended to the domain's file. */
export function schemaFile(existing: string | undefined, plan: ConsumerPlan, file = `${plan.domain}.schema.ts`): string {
  const schema = [
    '',
    `/** ${plan.event}: ${plan.summary} Describe the payload here; a breaking change adds a version in catalog.ts. */`,
    `export const ${plan.schemaName} = z.object({`,
    `  /** What the event is about: the message key (searchable in the broker)${plan.topic.messageType === 'FIFO' ? ' and the FIFO message group' : ''}. */`,
    `  ${plan.keyField}: id,`,
    '});',
    '',
  ].join('\n');
  if (existing === undefined) return `import { z } from 'zod';\nimport { id } from './common.schema.ts';\n${schema}`;
  const source = parse(file, existing);
  if (exportedConsts(source).includes(plan.schemaName)) throw new SourceEditError(file, `already exports ${plan.schemaName}`);
  const withImports = applySplices(existing, [
    ...addNamedImports(existing, source, 'zod', ['z']),
    ...(exportedConsts(source).includes('id') ? [] : addNamedImports(existing, source, './common.schema.ts', ['id'])),
  ]);
  return `${withImports.trimEnd()}\n${schema}`;
}
