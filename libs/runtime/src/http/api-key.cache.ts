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
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { record: ApiKeyRecord | undefined; until: number }>();
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
    return this.cached(`secret:${secret}`, () => this.keys.authenticate(secret));
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
    const hit = this.entries.get(id);
    if (hit && hit.until >= now) return hit.record;
    let record: ApiKeyRecord | undefined;
    try {
      record = await load();
    } catch (error) {
      throw new KeyStoreUnavailableError(error);
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(id, { record, until: now + this.ttlMs });
    return record;
  }
}
