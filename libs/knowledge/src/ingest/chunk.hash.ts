import { createHash } from 'node:crypto';

/** sha256 (hex) of a normalised chunk: the key under which its vector is reused. */
export function chunkHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Stable row id of one chunk of one document version (the store replaces rows by id). */
export function chunkId(parts: { tenantId: string; kbId: string; docId: string; version: string; position: number }): string {
  return createHash('sha256').update(JSON.stringify([parts.tenantId, parts.kbId, parts.docId, parts.version, parts.position])).digest('hex').slice(0, 40);
}
