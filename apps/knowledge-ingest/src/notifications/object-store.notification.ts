import { posix } from 'node:path';
import { z } from 'zod';
import { digestName, idSchema, isValidId, type EventInput } from '@aip/contracts';
import { isPlainPath } from '../content/content.store.ts';

/** Which bucket (and key prefix) feeds which knowledge base of which tenant. */
export const objectStoreMappingSchema = z.object({
  bucket: z.string().min(1).max(255),
  prefix: z.string().max(1_024).default(''),
  tenantId: idSchema,
  kbId: idSchema,
});
export const objectStoreMappingsSchema = z.array(objectStoreMappingSchema).max(1_000);
export type ObjectStoreMapping = z.infer<typeof objectStoreMappingSchema>;

const record = z.looseObject({
  eventName: z.string().regex(/^(s3:)?Object(Created|Removed):/, 'eventName must be ObjectCreated:* or ObjectRemoved:*'),
  eventTime: z.string().optional(),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1).max(255) }),
    object: z.looseObject({
      /** URL-encoded, as S3 sends it (a space is '+'). */
      key: z
        .string()
        .min(1)
        .max(3_072)
        // Decoded, a key names one object literally: `a/../b`, `./a`, `a//b`, a backslash or NUL could step into another bucket or prefix.
        .refine((key) => isPlainPath(decodeKey(key).replace(/\/$/, '')), 'the object key must not contain empty, "." or ".." segments, backslashes or NUL characters')
        // S3 keys are UTF-8: an unpaired surrogate (JSON "\ud800") names no object.
        .refine((key) => decodeKey(key).isWellFormed(), 'the object key must be valid Unicode text'),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().max(256).optional(),
      versionId: z.string().max(1_024).optional(),
      sequencer: z.string().max(256).optional(),
    }),
  }),
});

/**
 * The body of an S3-style event notification (AWS S3, MinIO, Ceph RGW...): `Records[]` of
 * `ObjectCreated:*` / `ObjectRemoved:*`. The test event S3 sends when a notification is
 * configured has no records and is accepted as a no-op.
 */
export const objectStoreNotificationSchema = z.looseObject({
  Records: z.array(record).max(1_000).optional(),
  Event: z.string().optional(),
});
export type ObjectStoreNotification = z.infer<typeof objectStoreNotificationSchema>;

const MEDIA_TYPES: Record<string, string> = {
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.csv': 'text/plain',
  '.log': 'text/plain',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.xhtml': 'application/xhtml+xml',
  '.pdf': 'application/pdf',
};

/** Media type of a file name by its extension; undefined when we cannot index it. */
export function mediaTypeOfName(name: string): string | undefined {
  return MEDIA_TYPES[posix.extname(name).toLowerCase()];
}

export type MappedChange =
  | { readonly type: 'kb.change.upsert'; readonly data: EventInput<'kb.change.upsert'> }
  | { readonly type: 'kb.change.delete'; readonly data: EventInput<'kb.change.delete'> };

export interface MappingResult {
  readonly changes: MappedChange[];
  readonly ignored: { readonly bucket: string; readonly key: string; readonly reason: string }[];
}

/**
 * Notification records → knowledge changes, in record order, for one tenant (the caller's):
 * bucket + longest matching key prefix → knowledge base, the rest of the key → document id, the
 * object itself → content by reference (`s3://bucket/key`). Records of buckets not mapped to
 * this tenant are ignored, so a tenant cannot pull another tenant's objects into its own base.
 */
export function mapObjectStoreNotification(body: ObjectStoreNotification, tenantId: string, mappings: readonly ObjectStoreMapping[]): MappingResult {
  const result: MappingResult = { changes: [], ignored: [] };
  for (const entry of body.Records ?? []) {
    const bucket = entry.s3.bucket.name;
    const key = decodeKey(entry.s3.object.key);
    const ignore = (reason: string) => result.ignored.push({ bucket, key, reason });
    const mapping = mappings
      .filter((m) => m.tenantId === tenantId && m.bucket === bucket && key.startsWith(m.prefix))
      .sort((a, b) => b.prefix.length - a.prefix.length)[0];
    if (!mapping) {
      ignore('no knowledge base is mapped to this bucket and prefix');
      continue;
    }
    const rest = key.slice(mapping.prefix.length);
    if (!rest || rest.endsWith('/')) {
      ignore('a folder marker, not a document');
      continue;
    }
    // Object keys may be longer than an id or hold characters ids may not (S3 allows any): a digest then, the same for every event of the object.
    const docId = isValidId(rest) ? rest : digestName(rest);
    if (/^(s3:)?ObjectRemoved:/.test(entry.eventName)) {
      result.changes.push({ type: 'kb.change.delete', data: { kbId: mapping.kbId, docId } });
      continue;
    }
    const mediaType = mediaTypeOfName(key);
    if (!mediaType) {
      ignore(`unsupported file type (supported: ${Object.keys(MEDIA_TYPES).join(' ')})`);
      continue;
    }
    const { versionId, eTag } = entry.s3.object;
    const version = versionId || eTag?.replace(/"/g, '');
    result.changes.push({
      type: 'kb.change.upsert',
      data: {
        kbId: mapping.kbId,
        docId,
        title: posix.basename(key).slice(0, 1_024).toWellFormed(),
        mediaType,
        contentRef: `s3://${bucket}/${key}`,
        ...(version ? { version: isValidId(version) ? version : digestName(version) } : {}),
        metadata: { bucket, key: key.slice(0, 1_024) },
      },
    });
  }
  return result;
}

/** S3 sends keys URL-encoded with '+' for spaces. */
function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}
