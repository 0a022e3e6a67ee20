import { isValidId } from '@aip/contracts';
import { mapObjectStoreNotification, objectStoreMappingsSchema, objectStoreNotificationSchema, type ObjectStoreMapping } from './object-store.notification.ts';

const mappings: ObjectStoreMapping[] = [
  { bucket: 'docs', prefix: '', tenantId: 'acme', kbId: 'all-docs' },
  { bucket: 'docs', prefix: 'handbook/', tenantId: 'acme', kbId: 'handbook' },
  { bucket: 'globex-docs', prefix: '', tenantId: 'globex', kbId: 'globex-kb' },
];

const recordOf = (eventName: string, bucket: string, key: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '2.1',
  eventSource: 'aws:s3',
  eventName,
  s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: 12, ...extra } },
});

const parse = (records: unknown[]) => objectStoreNotificationSchema.parse({ Records: records });

describe('object-store notifications', () => {
  it('maps a created object to an upsert by reference, using the longest matching prefix', () => {
    const result = mapObjectStoreNotification(parse([recordOf('ObjectCreated:Put', 'docs', 'handbook/travel/Beijing+hotels.md', { eTag: '"abc123"' })]), 'acme', mappings);
    expect(result.ignored).toEqual([]);
    expect(result.changes).toEqual([
      {
        type: 'kb.change.upsert',
        data: {
          kbId: 'handbook',
          docId: 'travel/Beijing hotels.md',
          title: 'Beijing hotels.md',
          mediaType: 'text/markdown',
          contentRef: 's3://docs/handbook/travel/Beijing hotels.md',
          version: 'abc123',
          metadata: { bucket: 'docs', key: 'handbook/travel/Beijing hotels.md' },
        },
      },
    ]);
  });

  it('maps a removed object to a delete, keeping the order of the records', () => {
    const result = mapObjectStoreNotification(parse([recordOf('ObjectCreated:Put', 'docs', 'a.pdf'), recordOf('s3:ObjectRemoved:Delete', 'docs', 'a.pdf')]), 'acme', mappings);
    expect(result.changes.map((c) => [c.type, c.data.kbId, c.data.docId])).toEqual([
      ['kb.change.upsert', 'all-docs', 'a.pdf'],
      ['kb.change.delete', 'all-docs', 'a.pdf'],
    ]);
    expect(result.changes[0]!.type === 'kb.change.upsert' && result.changes[0]!.data.mediaType).toBe('application/pdf');
  });

  it('ignores buckets mapped to another tenant, unknown buckets, folder markers and unsupported files, saying why', () => {
    const result = mapObjectStoreNotification(
      parse([recordOf('ObjectCreated:Put', 'globex-docs', 'secret.md'), recordOf('ObjectCreated:Put', 'other', 'x.md'), recordOf('ObjectCreated:Put', 'docs', 'handbook/'), recordOf('ObjectCreated:Put', 'docs', 'photo.png')]),
      'acme',
      mappings,
    );
    expect(result.changes).toEqual([]);
    expect(result.ignored.map((i) => [i.key, i.reason.split(' ')[0]])).toEqual([
      ['secret.md', 'no'],
      ['x.md', 'no'],
      ['handbook/', 'a'],
      ['photo.png', 'unsupported'],
    ]);
  });

  it('gives very long keys a stable document id within the 128-character limit', () => {
    const key = `${'deep/'.repeat(40)}file.txt`;
    const first = mapObjectStoreNotification(parse([recordOf('ObjectCreated:Put', 'docs', key)]), 'acme', mappings).changes[0]!;
    const again = mapObjectStoreNotification(parse([recordOf('ObjectRemoved:Delete', 'docs', key)]), 'acme', mappings).changes[0]!;
    expect(first.data.docId.length).toBeLessThanOrEqual(128);
    expect(again.data.docId).toBe(first.data.docId);
  });

  it('accepts the S3 test event and rejects records that are not object events', () => {
    expect(mapObjectStoreNotification(objectStoreNotificationSchema.parse({ Service: 'Amazon S3', Event: 's3:TestEvent' }), 'acme', mappings).changes).toEqual([]);
    const bad = objectStoreNotificationSchema.safeParse({ Records: [recordOf('ObjectRestore:Completed', 'docs', 'a.md')] });
    expect(bad.success).toBe(false);
    expect(objectStoreNotificationSchema.safeParse({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: {}, object: { key: 'a' } } }] }).success).toBe(false);
  });

  it('rejects keys that could step out of their prefix or bucket, encoded or not', () => {
    for (const key of ['handbook/../../acme-private/secret.md', 'handbook/%2E%2E/%2E%2E/acme-private/secret.md', 'handbook/./a.md', 'handbook//a.md', '/a.md', 'handbook/..%5C..%5Csecret.md', 'a%00.md']) {
      const result = objectStoreNotificationSchema.safeParse({ Records: [recordOf('ObjectCreated:Put', 'docs', key)] });
      expect({ key, success: result.success }).toEqual({ key, success: false });
      expect(result.error?.issues[0]?.message).toMatch(/segments/);
    }
    // Dots inside a name are fine.
    expect(objectStoreNotificationSchema.safeParse({ Records: [recordOf('ObjectCreated:Put', 'docs', 'handbook/v1..2/..notes.md')] }).success).toBe(true);
  });

  // Regression (issues 14, 16): every id and label a notification yields passes the platform's id rule.
  it('gives objects with odd names (control characters) a stable document id and version label the id rule accepts', () => {
    const created = mapObjectStoreNotification(parse([recordOf('ObjectCreated:Put', 'docs', 'tab%09name.md', { versionId: 'v\u0000x' })]), 'acme', mappings);
    const removed = mapObjectStoreNotification(parse([recordOf('ObjectRemoved:Delete', 'docs', 'tab%09name.md')]), 'acme', mappings);
    const upsert = created.changes[0]!.data as { docId: string; version: string; contentRef: string };
    expect(upsert.docId).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(removed.changes[0]!.data.docId).toBe(upsert.docId);
    expect(upsert.version).toMatch(/^sha256:[0-9a-f]{40}$/);
    expect(upsert.contentRef).toBe('s3://docs/tab\tname.md');
    expect([upsert.docId, upsert.version].every(isValidId)).toBe(true);
  });

  it('rejects object keys that are not valid Unicode, and mappings whose ids fail the id rule', () => {
    expect(objectStoreNotificationSchema.safeParse({ Records: [recordOf('ObjectCreated:Put', 'docs', 'a\uD800.md')] }).success).toBe(false);
    expect(objectStoreMappingsSchema.safeParse([{ bucket: 'docs', tenantId: 'acme', kbId: 'kb\u0000' }]).success).toBe(false);
    expect(objectStoreMappingsSchema.safeParse([{ bucket: 'docs', tenantId: '  ', kbId: 'kb' }]).success).toBe(false);
  });
});
