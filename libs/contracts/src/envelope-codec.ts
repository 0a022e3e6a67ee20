import { z } from 'zod';
import { EVENTS, isEventType, type EventData, type EventInput, type EventType } from './catalog.ts';
import { envelopeHeaderSchema, type EnvelopeHeader } from './envelope.ts';

export type Envelope<T extends EventType = EventType> = Omit<EnvelopeHeader, 'type' | 'data'> & {
  readonly type: T;
  readonly data: EventData<T>;
};

/** Any valid envelope, discriminated by `type`: narrowing on `type` narrows `data`. */
export type AnyEnvelope = { [T in EventType]: Envelope<T> }[EventType];

export interface EnvelopeOptions {
  source: string;
  tenantId: string;
  id?: string;
  time?: Date;
  traceparent?: string;
  key?: string;
}

/** Builds a validated envelope of the current version; throws a ZodError on a bad payload. */
export function createEnvelope<T extends EventType>(type: T, input: EventInput<T>, options: EnvelopeOptions): Envelope<T> {
  const spec = EVENTS[type];
  const data = spec.schema.parse(input) as EventData<T>;
  const envelope = {
    id: options.id ?? crypto.randomUUID(),
    type,
    version: spec.version,
    source: options.source,
    time: (options.time ?? new Date()).toISOString(),
    tenantId: options.tenantId,
    ...(options.traceparent ? { traceparent: options.traceparent } : {}),
    ...(options.key ? { key: options.key } : {}),
    data,
  };
  envelopeHeaderSchema.parse(envelope);
  return envelope;
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  readonly issues: readonly { path: string; message: string }[];
  constructor(message: string, issues: readonly { path: string; message: string }[] = []) {
    super(message);
    this.issues = issues;
  }
}

function issuesOf(error: z.ZodError, prefix: string) {
  return error.issues.map((issue) => ({ path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'), message: issue.message }));
}

/**
 * Parses a message body into a typed envelope. Throws EnvelopeError when the body is not JSON,
 * the envelope is malformed, the type is unknown or not the expected one, the version is not
 * accepted, or the data fails its schema: such a message can never be handled.
 */
export function parseEnvelope(body: string | Uint8Array): AnyEnvelope;
export function parseEnvelope<T extends EventType>(body: string | Uint8Array, expected: T): Envelope<T>;
export function parseEnvelope(body: string | Uint8Array, expected?: EventType): AnyEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch {
    throw new EnvelopeError('body is not valid JSON');
  }
  const header = envelopeHeaderSchema.safeParse(raw);
  if (!header.success) throw new EnvelopeError('malformed envelope', issuesOf(header.error, ''));
  const { type, version } = header.data;
  if (!isEventType(type)) throw new EnvelopeError(`unknown event type "${type}"`);
  if (expected && type !== expected) throw new EnvelopeError(`expected event type "${expected}", got "${type}"`);
  const schema = EVENTS[type].versions[version];
  if (!schema) throw new EnvelopeError(`version ${version} of "${type}" is not accepted (accepted: ${Object.keys(EVENTS[type].versions).join(', ')})`);
  const data = schema.safeParse(header.data.data);
  if (!data.success) throw new EnvelopeError(`invalid data for "${type}" v${version}`, issuesOf(data.error, 'data'));
  return { ...header.data, type, data: data.data } as AnyEnvelope;
}
