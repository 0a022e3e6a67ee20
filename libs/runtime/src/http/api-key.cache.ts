import { createHash } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';

export interface ApiKeyCacheOptions {
  /** How long an answer (including "no such key") is reused; a revoked key works at most this long. */
  ttlMs?: number;
  /** Entries kept before the cache starts over, so a flood of made-up keys cannot grow memory. */
  maxEntries?: number;
  now?: () => number;
}

/** The key store could not be asked (Redis down): neither "valid" nor "invalid" may be assumed. */
export class KeyStoreUnavailableError extends Error {
  override readonly name = 'KeyStoreUnavailableError';
  constructor(cause: unknown) {
    super('key storage (Redis) is unavailable', { cause });
  }
}

/** The secret of an `Authorization: Bearer <secret>` header, if there is one. */
export function bearerSecret(authorization: string | undefined): string | undefined {
  const secret = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
  return secret || undefined;
}

/**
 * API key look-ups cached for a short time (two seconds by default), so the hot path rarely touches
 * Redis while a revoked key still stops working within that time. Failures are not cached.
 * Entries are keyed by the secret's SHA-256, never the secret itself, and "no such key" answers
 * live apart from valid keys: a flood of made-up secrets starts its own map over, never the one
 * real clients are served from.
 */
export class ApiKeyCache {
  private readonly found = new Map<string, { record: ApiKeyRecord; until: number }>();
  private readonly missing = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly keys: Pick<ApiKeyStore, 'authenticate' | 'byId'>,
    options: ApiKeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 2_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The active key a presented secret belongs to; undefined for unknown and revoked keys. */
  authenticate(secret: string): Promise<ApiKeyRecord | undefined> {
    return this.cached(`secret:${createHash('sha256').update(secret).digest('base64url')}`, () => this.keys.authenticate(secret));
  }

  /** The key with this id if it is still active (e.g. the key a realtime token was issued with). */
  activeById(id: string): Promise<ApiKeyRecord | undefined> {
    return this.cached(`id:${id}`, async () => {
      const record = await this.keys.byId(id);
      return record?.status === 'active' ? record : undefined;
    });
  }

  private async cached(id: string, load: () => Promise<ApiKeyRecord | undefined>): Promise<ApiKeyRecord | undefined> {
    const now = this.now();
    const hit = this.found.get(id);
    if (hit && hit.until >= now) return hit.record;
    const miss = this.missing.get(id);
    if (miss !== undefined && miss >= now) return undefined;
    let record: ApiKeyRecord | undefined;
    try {
      record = await load();
    } catch (error) {
      throw new KeyStoreUnavailableError(error);
    }
    const entries = record ? this.found : this.missing;
    if (entries.size >= this.maxEntries) entries.clear();
    if (record) {
      this.missing.delete(id);
      this.found.set(id, { record, until: now + this.ttlMs });
    } else {
      this.found.delete(id);
      this.missing.set(id, now + this.ttlMs);
    }
    return record;
  }
}
