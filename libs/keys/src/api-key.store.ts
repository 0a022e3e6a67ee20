import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * Tenant ids go into Redis keys as `{tenant:user}` and `tenant/session`: no ':', '/', braces or
 * spaces, so one tenant's keys can never spell another's (tenant "a:b" + user "c" = tenant "a" +
 * user "b:c" otherwise).
 */
export const tenantIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'tenantId: 1-128 letters, digits, ".", "_" or "-"');

export const apiKeyInputSchema = z.object({
  tenantId: tenantIdSchema,
  subAccount: z.string().min(1).max(128).optional(),
  name: z.string().max(256).optional(),
  /** Model aliases this key may call; empty or absent = every model. */
  models: z.array(z.string().min(1)).max(256).optional(),
  /** Rate-limit policy document (validated by the limiter). */
  policy: z.record(z.string(), z.unknown()).optional(),
  /**
   * The tenant's admin key (ADR 0029): acting for no user, it reads and deletes every conversation
   * and stored response of its tenant (support, erasure on request). Every key may act for a user
   * it names; only this one sees what belongs to other keys or users without naming them.
   */
  admin: z.boolean().optional(),
  /** Profile tags handed to the model as context. */
  profile: z.record(z.string(), z.string().max(256)).optional(),
});
export type ApiKeyInput = z.infer<typeof apiKeyInputSchema>;

/** A key as stored and shown by the admin API (never its secret). */
export const apiKeyRecordSchema = apiKeyInputSchema.extend({
  id: z.string(),
  status: z.enum(['active', 'revoked']),
  createdAt: z.number().int(),
  /** First characters of the secret, to recognise a key in lists; the secret itself is never stored. */
  hint: z.string(),
});
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

/** What creating or rotating a key answers: the plaintext secret, shown this once, and the record. */
export const issuedApiKeySchema = z.object({ key: z.string(), record: apiKeyRecordSchema });

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * API keys, stored hashed: `apikey:{sha256}` → id, `apikey:id:{id}` → record, and a per-tenant
 * index. The plaintext is returned once, at creation or rotation.
 */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {}

  private recordKey(id: string) {
    return `${this.prefix}apikey:id:${id}`;
  }

  private hashKey(digest: string) {
    return `${this.prefix}apikey:${digest}`;
  }

  private tenantKey(tenantId: string) {
    return `${this.prefix}apikeys:tenant:${tenantId}`;
  }

  async create(input: ApiKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    const id = randomUUID();
    const secret = `sk-aip-${randomBytes(24).toString('base64url')}`;
    const record: ApiKeyRecord = { ...apiKeyInputSchema.parse(input), id, status: 'active', createdAt: Date.now(), hint: secret.slice(0, 11) };
    await this.redis
      .multi()
      .set(this.recordKey(id), JSON.stringify({ ...record, digest: hash(secret) }))
      .set(this.hashKey(hash(secret)), id)
      .sadd(this.tenantKey(record.tenantId), id)
      .exec();
    return { key: secret, record };
  }

  /** The active key a presented secret belongs to, if any (revoked and unknown keys look the same). */
  async authenticate(secret: string): Promise<ApiKeyRecord | undefined> {
    const id = await this.redis.get(this.hashKey(hash(secret)));
    if (!id) return undefined;
    const record = await this.byId(id);
    return record?.status === 'active' ? record : undefined;
  }

  async byId(id: string): Promise<ApiKeyRecord | undefined> {
    const raw = await this.redis.get(this.recordKey(id));
    if (!raw) return undefined;
    const { digest: _digest, ...record } = JSON.parse(raw) as ApiKeyRecord & { digest: string };
    return record;
  }

  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.tenantKey(tenantId));
    const records = await Promise.all(ids.map((id) => this.byId(id)));
    return records.filter((r): r is ApiKeyRecord => r !== undefined).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** A new secret for the same key id (limits and counters carry over); the old secret stops working at once. */
  async rotate(id: string): Promise<{ key: string; record: ApiKeyRecord } | undefined> {
    const raw = await this.redis.get(this.recordKey(id));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as ApiKeyRecord & { digest: string };
    if (stored.status !== 'active') return undefined;
    const secret = `sk-aip-${randomBytes(24).toString('base64url')}`;
    const { digest, ...record } = { ...stored, hint: secret.slice(0, 11) };
    await this.redis
      .multi()
      .del(this.hashKey(digest))
      .set(this.hashKey(hash(secret)), id)
      .set(this.recordKey(id), JSON.stringify({ ...record, digest: hash(secret) }))
      .exec();
    return { key: secret, record };
  }

  async revoke(id: string): Promise<boolean> {
    const raw = await this.redis.get(this.recordKey(id));
    if (!raw) return false;
    const stored = JSON.parse(raw) as ApiKeyRecord & { digest: string };
    await this.redis
      .multi()
      .del(this.hashKey(stored.digest))
      .set(this.recordKey(id), JSON.stringify({ ...stored, status: 'revoked' }))
      .exec();
    return true;
  }
}
