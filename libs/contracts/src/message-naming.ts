import { createHash } from 'node:crypto';

/**
 * Longest FIFO message group the RocketMQ proxy accepts, in UTF-8 bytes: it refuses 64 or more
 * (`maxMessageGroupSize`, code 40006 ILLEGAL_MESSAGE_GROUP).
 */
export const MAX_MESSAGE_GROUP_BYTES = 63;
/** Message keys have no limit of their own but count towards the 16 KiB of message properties. */
export const MAX_MESSAGE_KEY_BYTES = 512;

// The proxy refuses keys and groups that are blank or hold a control character (40005, 40006).
const CONTROL = /\p{Cc}/u;

function brokerAccepts(value: string, maxBytes: number): boolean {
  return value.trim() !== '' && !CONTROL.test(value) && value.isWellFormed() && Buffer.byteLength(value, 'utf8') <= maxBytes;
}

/** `sha256:` + the first 40 hex digits of the SHA-256 of the value's UTF-8: a short stand-in for a long or odd name. */
export function digestName(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 40)}`;
}

/**
 * The FIFO message group of an entity named by `parts` (e.g. knowledge base and document): the
 * parts joined with ':' when the broker accepts that as a group — readable in broker tools, and
 * the group producers always used for such ids — otherwise {@link digestName} of the joined
 * parts. A pure function of the ids, so every change of one entity lands in one group whatever
 * its ids look like; two entities sharing a group (a digest collision) only share an order.
 */
export function fifoGroupOf(...parts: readonly string[]): string {
  const plain = parts.join(':');
  return brokerAccepts(plain, MAX_MESSAGE_GROUP_BYTES) ? plain : digestName(plain);
}

/** The message key for an id: the id itself when the broker accepts it as a key, otherwise {@link digestName} of it. */
export function messageKeyOf(id: string): string {
  return brokerAccepts(id, MAX_MESSAGE_KEY_BYTES) ? id : digestName(id);
}
