import type { KnowledgeRegistry } from '@aip/knowledge';
import { PublishError } from '@aip/messaging';
import { ApiError, type AuthenticatedRequest } from '@aip/runtime';
import type { KbEvents } from '../common/kb-events.ts';
import type { UploadQuota } from '../content/upload.quota.ts';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';
import { NotificationsController } from './notifications.controller.ts';

const env = { OBJECT_STORE_MAPPINGS: [{ bucket: 'docs', prefix: '', tenantId: 'acme', kbId: 'kb' }] } as unknown as KnowledgeIngestEnv;
const request = { apiKey: { tenantId: 'acme' } } as AuthenticatedRequest;
const created = (key: string) => ({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'docs' }, object: { key } } }] });

function controller(publish: () => Promise<unknown>, room = 100) {
  const states: string[] = [];
  const reserved = new Set<string>();
  const quota = {
    limits: { maxDocuments: room, maxBytes: 1_000_000, ttlMs: 60_000 },
    reserve: async (_tenantId: string, ref: string) => (reserved.size < room ? (reserved.add(ref), { ok: true }) : { ok: false, limit: 'documents' }),
    release: async (_tenantId: string, ref: string) => void reserved.delete(ref),
  } as unknown as UploadQuota;
  const registry = {
    markQueued: async () => void states.push('queued'),
    fail: async (_doc: unknown, reason: string) => void states.push(`failed: ${reason}`),
  } as unknown as KnowledgeRegistry;
  const events = { publish } as unknown as KbEvents;
  return { controller: new NotificationsController(events, registry, env, quota), states, reserved };
}

describe('NotificationsController', () => {
  // Regression (issue 15): every publish failure was "503 broker unavailable; retry".
  it('answers a change the broker refuses with a 400, and does not leave the document queued', async () => {
    const cause = Object.assign(new Error('message group exceed the max size 64'), { code: 40006 });
    const { controller: notifications, states, reserved } = controller(async () => Promise.reject(new PublishError('REJECTED', 'refused', { cause })));
    const error = await notifications.notify(created('guide.md'), request).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).getStatus()).toBe(400);
    expect(states).toEqual(['queued', expect.stringMatching(/^failed: the change could not be queued/)]);
    expect(reserved.size).toBe(0);
  });

  it("counts created objects against the tenant's upload quota: 429 beyond it, nothing queued for that record", async () => {
    const published: unknown[] = [];
    const { controller: notifications, states, reserved } = controller(async () => (published.push(1), { envelope: { id: 'e' } }), 1);
    expect(await notifications.notify(created('one.md'), request)).toMatchObject({ accepted: [{ docId: 'one.md' }] });
    expect(reserved).toEqual(new Set(['s3://docs/one.md']));
    const error = await notifications.notify(created('two.md'), request).then(() => undefined, (e: unknown) => e);
    expect((error as ApiError).getStatus()).toBe(429);
    expect((error as ApiError).getResponse().error).toMatchObject({ type: 'rate_limit_error', code: 'upload_quota_exceeded' });
    expect(states).toEqual(['queued']);
    expect(published).toHaveLength(1);
  });

  it('keeps 503 for a broker that is down: the sender retries the notification', async () => {
    const { controller: notifications } = controller(async () => Promise.reject(new PublishError('BROKER_UNAVAILABLE', 'down')));
    const error = await notifications.notify(created('guide.md'), request).then(() => undefined, (e: unknown) => e);
    expect((error as ApiError).getStatus()).toBe(503);
  });
});
