import type { Redis } from 'ioredis';
import type { ObjectStore } from './object-store.port.ts';

/**
 * An ObjectStore in Redis: the one store access and every worker already share in every
 * deployment (one host, compose, Kubernetes), so a claim check needs no shared volume; an object's
 * expiry is its key's (PX), so nothing has to be swept. Redis holds the bytes until then: images
 * are bounded at the edge (MAX_IMAGES × MAX_IMAGE_BYTES) and live as long as their task.
 */
export class RedisObjectStore implements ObjectStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {}

  async put(key: string, bytes: Uint8Array, expiresAt: Date): Promise<void> {
    const ttlMs = expiresAt.getTime() - Date.now();
    // Already expired: there is nothing a reader could get.
    if (ttlMs <= 0) return;
    await this.redis.set(this.keyOf(key), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', ttlMs);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const bytes = await this.redis.getBuffer(this.keyOf(key));
    return bytes ? new Uint8Array(bytes) : undefined;
  }

  private keyOf(key: string): string {
    return `${this.prefix}object:${key}`;
  }
}
