import { createEnvelope, EVENTS, fifoGroupOf, idProblem, idSchema, isValidId, messageKeyOf, MAX_MESSAGE_GROUP_BYTES, parseEnvelope, EnvelopeError } from './index.ts';

const VALID = ['acme', 'travel-guides_2', 'Annual leave policy (2025).pdf', 'guides/shanghai notes.md', 'Übersicht — Straße.md', '報告書.pdf', '😀 emoji.txt', 'a'.repeat(128), 'v1+3f2a9c01', 'x:y'];
const INVALID: [string, string][] = [
  ['', 'empty'],
  ['a'.repeat(129), 'at most 128'],
  ['\u0000', 'control'],
  ['v\u0000', 'control'],
  ['tab\there', 'control'],
  ['line\nbreak', 'control'],
  ['del\u007f', 'control'],
  ['c1\u0085', 'control'],
  ['sep\u2028', 'control'],
  ['lone \uD800 surrogate', 'Unicode'],
  ['\uDC00', 'Unicode'],
  ['   ', 'blank'],
];

describe('the id rule', () => {
  it('accepts the ids people actually use: file names with spaces, slashes, any script, 128 characters', () => {
    for (const id of VALID) expect({ id, problem: idProblem(id) }).toEqual({ id, problem: undefined });
    for (const id of VALID) expect(idSchema.safeParse(id).success).toBe(true);
  });

  it('refuses what a store, the broker or Redis cannot hold or filter on, naming the problem', () => {
    for (const [id, problem] of INVALID) {
      expect(idProblem(id)).toContain(problem);
      expect(isValidId(id)).toBe(false);
      expect(idSchema.safeParse(id).success).toBe(false);
    }
    expect(idProblem(42)).toBe('must be a string');
  });

  it('is applied to the tenant of every envelope and to the ids and version labels of knowledge events', () => {
    const upsert = { kbId: 'kb', docId: 'd', mediaType: 'text/plain', content: 'x' };
    expect(() => createEnvelope('kb.change.upsert', { ...upsert, version: '\u0000' }, { source: 't', tenantId: 'acme' })).toThrow('control');
    expect(() => createEnvelope('kb.change.upsert', { ...upsert, docId: 'a\uD800' }, { source: 't', tenantId: 'acme' })).toThrow('Unicode');
    expect(() => createEnvelope('kb.change.delete', { kbId: 'kb\n', docId: 'd' }, { source: 't', tenantId: 'acme' })).toThrow('control');
    expect(() => createEnvelope('kb.change.delete', { kbId: 'kb', docId: 'd' }, { source: 't', tenantId: 'ac\u0000me' })).toThrow('control');
    // A message carrying one is poison: it can never be handled (the transport dead-letters it).
    const body = JSON.stringify({ id: 'e', type: 'kb.change.upsert', version: 1, source: 'cdc', time: new Date().toISOString(), tenantId: 'acme', data: { ...upsert, version: '\u0000' } });
    expect(() => parseEnvelope(body)).toThrow(EnvelopeError);
  });
});

describe('message groups and keys of knowledge changes', () => {
  const group = (data: { kbId: string; docId: string }) => EVENTS['kb.change.upsert'].messageGroup!(data as never);
  const deleteGroup = (data: { kbId: string; docId: string }) => EVENTS['kb.change.delete'].messageGroup!(data);
  const key = (type: 'kb.change.delete' | 'kb.document.failed', data: { kbId: string; docId: string }) => EVENTS[type].key!({ ...data, reason: 'x' });
  const bytes = (value: string) => Buffer.byteLength(value, 'utf8');
  const illegal = /[\p{Cc}]/u;

  it('keep `kbId:docId` and the doc id where the broker takes them (the group producers always used)', () => {
    expect(group({ kbId: 'travel', docId: 'beijing' })).toBe('travel:beijing');
    expect(key('kb.change.delete', { kbId: 'travel', docId: 'guides/shanghai notes.md' })).toBe('guides/shanghai notes.md');
  });

  // Regression (issue 15): a 70-character file name made a 77-byte group, refused by the broker (40006).
  it('fit the broker for every id the schema accepts: at most 63 bytes, no control character, not blank', () => {
    const long = `${'Quarterly report of the travel department, final version'.padEnd(70, '!')}`;
    const ids = [...VALID, long, '報'.repeat(128), '😀'.repeat(64)];
    for (const kbId of ['kb', 'k'.repeat(128)]) {
      for (const docId of ids) {
        const upsertGroup = group({ kbId, docId });
        expect(deleteGroup({ kbId, docId })).toBe(upsertGroup);
        expect(bytes(upsertGroup)).toBeLessThanOrEqual(MAX_MESSAGE_GROUP_BYTES);
        expect(upsertGroup).not.toMatch(illegal);
        const failedKey = key('kb.document.failed', { kbId, docId });
        expect(failedKey.trim()).not.toBe('');
        expect(failedKey).not.toMatch(illegal);
      }
    }
  });

  it('derive a digest only when needed, the same for the same document and different for different ones', () => {
    const long = 'd'.repeat(70);
    expect(fifoGroupOf('kb', long)).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(fifoGroupOf('kb', long)).toBe(fifoGroupOf('kb', long));
    expect(fifoGroupOf('kb', long)).not.toBe(fifoGroupOf('kb2', long));
    expect(fifoGroupOf('kb', long)).not.toBe(fifoGroupOf('kb', `${long}e`));
    // Exactly at the limit is kept; one byte more is not.
    expect(fifoGroupOf('kb', 'd'.repeat(60))).toBe(`kb:${'d'.repeat(60)}`);
    expect(fifoGroupOf('kb', 'd'.repeat(61))).toMatch(/^sha256:/);
    expect(messageKeyOf('a\tb')).toMatch(/^sha256:/);
    expect(messageKeyOf('  ')).toMatch(/^sha256:/);
  });
});
