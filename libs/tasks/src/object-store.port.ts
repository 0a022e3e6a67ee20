/**
 * Bytes by key, each with an expiry: what a claim check needs of an object store. The adapter is
 * RedisObjectStore (every app of a deployment reaches the same Redis, and it expires keys itself);
 * an S3 bucket with an expiration rule fits the same port.
 */
export interface ObjectStore {
  /** Writes (or replaces) `key`; it is gone for readers from `expiresAt` on. */
  put(key: string, bytes: Uint8Array, expiresAt: Date): Promise<void>;
  /** The bytes of `key`; undefined when there is none or it has expired. */
  get(key: string): Promise<Uint8Array | undefined>;
}
