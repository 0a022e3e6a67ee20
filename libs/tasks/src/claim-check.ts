import { createHash } from 'node:crypto';
import type { schemas } from '@aip/contracts';
import type { z } from 'zod';
import { ClaimCheckError } from './claim-check.error.ts';
import type { ObjectStore } from './object-store.port.ts';
import { TASK_TTL_MS } from './task.store.ts';

/** Where a stored image is: the `ref` of an image part of a submitted request. */
export type ImageRef = z.infer<typeof schemas.imageRef>;

export interface ClaimCheckOptions {
  /** How long a stored image stays readable: its task's lifetime (default: the task store's). */
  ttlMs?: number;
}

/** A tenant's folder: a digest, so any tenant id makes a plain, fixed-length folder name. */
function tenantFolder(tenantId: string): string {
  return createHash('sha256').update(tenantId, 'utf8').digest('hex').slice(0, 32);
}

/**
 * The claim check of images (ADR 0028): the edge stores an image's bytes under its tenant and
 * task, and the broker message carries only the reference, so messages stay small whatever the
 * images weigh. The worker redeems the reference for the same tenant and task; nothing else can.
 */
export class ClaimCheck {
  private readonly ttlMs: number;

  constructor(
    private readonly store: ObjectStore,
    options: ClaimCheckOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? TASK_TTL_MS;
  }

  /** Stores image `index` of a task and returns its reference. */
  async check(tenantId: string, taskId: string, index: number, image: { bytes: Uint8Array; mediaType: ImageRef['mediaType'] }): Promise<ImageRef> {
    const key = `${tenantFolder(tenantId)}/${taskId}/${index}`;
    await this.store.put(key, image.bytes, new Date(Date.now() + this.ttlMs));
    return { key, mediaType: image.mediaType, bytes: image.bytes.byteLength };
  }

  /** The image's bytes, for the tenant and task it was stored for only. */
  async redeem(tenantId: string, taskId: string, ref: ImageRef): Promise<Uint8Array> {
    if (!ref.key.startsWith(`${tenantFolder(tenantId)}/${taskId}/`)) throw new ClaimCheckError('forbidden', `the image reference "${ref.key}" is not this task's`);
    const bytes = await this.store.get(ref.key);
    if (!bytes) throw new ClaimCheckError('gone', `the image "${ref.key}" is no longer stored (it expired with its task)`);
    return bytes;
  }

  /** `data:` URI of a redeemed image: what OpenAI-compatible providers take inline. */
  static dataUri(ref: ImageRef, bytes: Uint8Array): string {
    return `data:${ref.mediaType};base64,${Buffer.from(bytes).toString('base64')}`;
  }
}
