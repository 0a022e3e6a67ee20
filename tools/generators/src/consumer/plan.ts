// What `nx g @aip/generators:consumer` will do, decided from its options and the workspace as it is
// (read from the contracts' sources, not imported: the generator must see what is on disk).
import ts from 'typescript';
import { booleanProperty, constObject, parse, properties, stringProperty, unwrap } from './source-edit.ts';

export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY';
export const MESSAGE_TYPES: readonly MessageType[] = ['NORMAL', 'FIFO', 'DELAY'];

export interface ConsumerGeneratorOptions {
  /** Event type, `<domain>.<entity>.<what happened>` (e.g. `billing.usage.recorded`). */
  event: string;
  /** An existing topic (key `aiLifecycle` or name `ai-lifecycle`) or the name of a new one. */
  topic: string;
  /** Message type of a new topic. */
  messageType?: MessageType;
  /** Message tag; default the last segment of the event type. */
  tag?: string;
  /** Target app, a folder under apps/. */
  app: string;
  /** Consumer group name; default the app's (the `group` of its RocketMQServer). */
  group?: string;
  /** One line on what the event means (AsyncAPI summary). */
  summary?: string;
  /** Skip regenerating docs/asyncapi.yaml (tests of the generator). */
  skipAsyncApi?: boolean;
}

export interface TopologyFacts {
  topics: { key: string; name: string; messageType: string }[];
  groups: { key: string; name: string; orderly: boolean }[];
}

export interface CatalogFacts {
  events: { type: string; topic: string; tag: string }[];
}

export interface ConsumerPlan {
  event: string;
  tag: string;
  summary: string;
  topic: { key: string; name: string; messageType: string; isNew: boolean; description: string };
  group: { key: string; name: string; orderly: boolean; isNew: boolean; isServerGroup: boolean };
  app: { dir: string; root: string };
  /** `billing` → libs/contracts/src/events/billing.schema.ts */
  domain: string;
  /** Name of the zod schema constant, e.g. `billingUsageRecorded`. */
  schemaName: string;
  /** Field that identifies the subject of the event: message key (and FIFO message group). */
  keyField: string;
  /** kebab-case feature name, e.g. `usage-recorded`; files are `<feature>.consumer.ts` etc. */
  feature: string;
  /** PascalCase base, e.g. `UsageRecorded` → `UsageRecordedConsumer`, `UsageRecordedService`. */
  className: string;
  /** Handler method, e.g. `onUsageRecorded`. */
  method: string;
  /** Folder of the handler files, relative to the workspace root. */
  dir: string;
}

/** A bad option: the message names the option and what it accepts. */
export class ConsumerOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsumerOptionError';
  }
}

const EVENT_PATTERN = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*){1,4}$/;
// RocketMQ topic and group names: letters, digits, '-', '_', '%', '|' (no dots).
const NAME_PATTERN = /^[A-Za-z0-9_|%-]{1,127}$/;
const TAG_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const APP_PATTERN = /^[a-z][a-z0-9-]*$/;

const words = (value: string) => value.split(/[^A-Za-z0-9]+/).filter(Boolean);
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
export const camelCase = (value: string) => words(value).map((word, i) => (i === 0 ? word.charAt(0).toLowerCase() + word.slice(1) : capital(word))).join('');
export const pascalCase = (value: string) => words(value).map(capital).join('');

export function readTopology(text: string, file = 'topology.ts'): TopologyFacts {
  const source = parse(file, text);
  const topics = [...properties(constObject(source, 'TOPICS'))].map(([key, value]) => ({
    key,
    name: stringProperty(value, 'name') ?? key,
    messageType: stringProperty(value, 'messageType') ?? 'NORMAL',
  }));
  const groups = [...properties(constObject(source, 'CONSUMER_GROUPS'))].map(([key, value]) => ({
    key,
    name: stringProperty(value, 'name') ?? key,
    orderly: booleanProperty(value, 'orderly') ?? false,
  }));
  return { topics, groups };
}

export function readCatalog(text: string, file = 'catalog.ts'): CatalogFacts {
  const source = parse(file, text);
  const events = [...properties(constObject(source, 'EVENTS'))].map(([type, value]) => {
    // Entries are `event({ topic, tag, ... })`.
    const call = unwrap(value);
    const spec = ts.isCallExpression(call) ? call.arguments[0] : call;
    return { type, topic: spec ? (stringProperty(spec, 'topic') ?? '') : '', tag: spec ? (stringProperty(spec, 'tag') ?? '') : '' };
  });
  return { events };
}

export interface WorkspaceFacts {
  topology: TopologyFacts;
  catalog: CatalogFacts;
  /** Folders under apps/. */
  apps: string[];
  /** The group of the app's consumers (the `consumers` it starts with), if it has any. */
  serverGroup: (app: string) => string | undefined;
  /** Whether a file exists (relative to the workspace root). */
  exists: (path: string) => boolean;
}

export function planConsumer(options: ConsumerGeneratorOptions, facts: WorkspaceFacts): ConsumerPlan {
  const event = options.event?.trim() ?? '';
  if (!EVENT_PATTERN.test(event)) {
    throw new ConsumerOptionError(`--event "${event}" is not an event type: use lower-case dot-separated words, e.g. billing.usage.recorded`);
  }
  if (facts.catalog.events.some((existing) => existing.type === event)) {
    throw new ConsumerOptionError(`--event ${event} is already declared in libs/contracts/src/catalog.ts; pick a new event type`);
  }
  const segments = event.split('.');
  const [domain = event] = segments;
  const last = segments.at(-1) ?? event;

  const app = options.app?.trim() ?? '';
  if (!APP_PATTERN.test(app) || !facts.apps.includes(app)) {
    throw new ConsumerOptionError(`--app "${app}" is not an app under apps/ (one of: ${facts.apps.join(', ')})`);
  }
  const appServerGroup = facts.serverGroup(app);
  if (appServerGroup === undefined) {
    throw new ConsumerOptionError(
      `--app ${app} consumes nothing: it starts with no \`consumers: { group }\` (apps/${app}/src/main.ts or app.options.ts, see startPlatformApp in libs/runtime). Give it consumers first or pick another app`,
    );
  }

  // Topic: an existing key or name, or a new name with --messageType.
  const requested = options.topic?.trim() ?? '';
  const existingTopic = facts.topology.topics.find((topic) => topic.key === requested || topic.name === requested);
  let topic: ConsumerPlan['topic'];
  if (existingTopic) {
    if (options.messageType && options.messageType !== existingTopic.messageType) {
      throw new ConsumerOptionError(`--messageType ${options.messageType} does not match topic ${existingTopic.name}, which is ${existingTopic.messageType}; omit --messageType for an existing topic`);
    }
    topic = { ...existingTopic, isNew: false, description: '' };
  } else {
    if (!NAME_PATTERN.test(requested)) {
      throw new ConsumerOptionError(
        `--topic "${requested}" is neither an existing topic (${facts.topology.topics.map((t) => t.name).join(', ')}) nor a valid new topic name (letters, digits, '-', '_' only; no dots)`,
      );
    }
    if (!options.messageType || !MESSAGE_TYPES.includes(options.messageType)) {
      throw new ConsumerOptionError(`--topic ${requested} is new: say its message type with --messageType (${MESSAGE_TYPES.join(' | ')})`);
    }
    const key = camelCase(requested);
    if (facts.topology.topics.some((t) => t.key === key)) throw new ConsumerOptionError(`--topic ${requested} would get the key ${key}, which TOPICS already uses`);
    topic = { key, name: requested, messageType: options.messageType, isNew: true, description: `${capital(segments.slice(1).join(' '))} events of ${domain}.` };
  }

  const tag = options.tag?.trim() || last;
  if (!TAG_PATTERN.test(tag)) throw new ConsumerOptionError(`--tag "${tag}" is not a valid tag (letters, digits, '-', '_')`);
  const clash = facts.catalog.events.find((e) => e.topic === topic.key && e.tag === tag);
  if (clash) throw new ConsumerOptionError(`--tag ${tag} is already used on topic ${topic.name} by ${clash.type}; each (topic, tag) pair carries one event type`);

  // Group: default the app's own; a new one is declared in topology.ts (the proxy does not auto-create groups).
  const groupName = options.group?.trim() || appServerGroup;
  if (!NAME_PATTERN.test(groupName)) throw new ConsumerOptionError(`--group "${groupName}" is not a valid consumer group name (letters, digits, '-', '_')`);
  const fifo = topic.messageType === 'FIFO';
  const existingGroup = facts.topology.groups.find((g) => g.name === groupName);
  let group: ConsumerPlan['group'];
  if (existingGroup) {
    if (fifo && !existingGroup.orderly) {
      throw new ConsumerOptionError(
        `topic ${topic.name} is FIFO but group ${groupName} is not orderly, so the broker would not keep the order; pass --group with an orderly or new group`,
      );
    }
    group = { ...existingGroup, isNew: false, isServerGroup: groupName === appServerGroup };
  } else {
    const key = camelCase(groupName);
    if (facts.topology.groups.some((g) => g.key === key)) throw new ConsumerOptionError(`--group ${groupName} would get the key ${key}, which CONSUMER_GROUPS already uses`);
    group = { key, name: groupName, orderly: fifo, isNew: true, isServerGroup: groupName === appServerGroup };
  }

  const rest = segments.length >= 3 ? segments.slice(1) : segments;
  const feature = rest.join('-');
  const className = pascalCase(rest.join(' '));
  const dir = `apps/${app}/src/${domain}`;
  for (const file of [`${dir}/${feature}.consumer.ts`, `${dir}/${feature}.service.ts`]) {
    if (facts.exists(file)) throw new ConsumerOptionError(`${file} already exists; the generator does not overwrite handlers`);
  }
  const entity = (segments.length >= 3 ? segments.at(-2) : undefined) ?? domain;

  return {
    event,
    tag,
    summary: options.summary?.trim() || `${capital(segments.slice(1).join(' '))} (${event}).`,
    topic,
    group,
    app: { dir: app, root: `apps/${app}` },
    domain,
    schemaName: camelCase(segments.join(' ')),
    keyField: `${camelCase(entity)}Id`,
    feature,
    className,
    method: `on${className}`,
    dir,
  };
}
