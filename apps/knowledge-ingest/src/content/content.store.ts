import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IngestError } from '@aip/knowledge';

/** Which tenant's buckets an `s3://` reference may name (the object-store mappings). */
export interface BucketGrant {
  readonly bucket: string;
  readonly prefix: string;
  readonly tenantId: string;
}

/**
 * Content by reference, so large documents never travel through the broker:
 * - `local:uploads/<tenant>/<id>`: an upload stored under the data directory by this service,
 *   in a folder of its tenant (a digest of the tenant id; embedded setup — several instances need
 *   a shared volume or object storage instead);
 * - `s3://<bucket>/<key>`: an object-store object, read from a local mirror directory in the
 *   embedded setup (`OBJECT_STORE_DIR/<bucket>/<key>`).
 * Nothing outside these two roots can be read: a reference is untrusted input. And a reference is
 * read only for the tenant it belongs to: an upload of that tenant, or an object under a bucket and
 * prefix mapped to that tenant — a change event naming another tenant's content fails
 * `content_forbidden` (whoever can publish to the broker cannot index someone else's files).
 */
export class ContentStore {
  private readonly dataDir: string;
  private readonly objectStoreDir: string;

  constructor(
    dataDir: string,
    objectStoreDir: string,
    private readonly buckets: readonly BucketGrant[] = [],
  ) {
    this.dataDir = resolve(dataDir);
    this.objectStoreDir = resolve(objectStoreDir);
  }

  /** Streams an upload of `tenantId` to disk; on any error (e.g. the size limit) nothing is left behind. */
  async saveStream(tenantId: string, stream: Readable): Promise<string> {
    const { ref, path } = await this.newUpload(tenantId);
    try {
      await pipeline(stream, createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return ref;
  }

  async saveBytes(tenantId: string, bytes: Uint8Array | string): Promise<string> {
    const { ref, path } = await this.newUpload(tenantId);
    await writeFile(path, bytes);
    return ref;
  }

  /** The content of `ref` for `tenantId`: `content_forbidden` when it is not that tenant's. */
  async read(ref: string, tenantId: string): Promise<Uint8Array> {
    const path = this.pathOf(ref);
    if (!this.belongsTo(ref, tenantId)) throw new IngestError('content_forbidden', `the content reference "${ref.slice(0, 100)}" is not this tenant's (an upload of another tenant, or a bucket and prefix not mapped to it)`);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') throw new IngestError('content_unavailable', `the content "${ref}" does not exist`);
      throw error;
    }
  }

  /** Size in bytes of stored content. */
  async sizeOf(ref: string): Promise<number> {
    return (await stat(this.pathOf(ref))).size;
  }

  /** Removes an upload of `tenantId` once its change was applied for good (object-store objects are not ours to delete). */
  async release(ref: string, tenantId: string): Promise<void> {
    // Only the tenant's own uploads: a change naming another tenant's upload must not delete it.
    if (ref.startsWith('local:') && this.belongsTo(ref, tenantId)) await rm(this.pathOf(ref), { force: true });
  }

  private async newUpload(tenantId: string) {
    const folder = tenantFolder(tenantId);
    const dir = join(this.dataDir, 'uploads', folder);
    await mkdir(dir, { recursive: true });
    const name = randomUUID();
    return { ref: `local:uploads/${folder}/${name}`, path: join(dir, name) };
  }

  /** Whether `ref` (already known to be a plain path inside its store) is `tenantId`'s content. */
  private belongsTo(ref: string, tenantId: string): boolean {
    if (ref.startsWith('local:')) return ref.startsWith(`local:uploads/${tenantFolder(tenantId)}/`);
    const relative = ref.slice('s3://'.length);
    const slash = relative.indexOf('/');
    const bucket = relative.slice(0, slash);
    const key = relative.slice(slash + 1);
    return this.buckets.some((grant) => grant.tenantId === tenantId && grant.bucket === bucket && key.startsWith(grant.prefix));
  }

  private pathOf(ref: string): string {
    let root: string;
    let relative: string;
    if (ref.startsWith('local:')) {
      root = this.dataDir;
      relative = ref.slice('local:'.length);
    } else if (ref.startsWith('s3://')) {
      root = this.objectStoreDir;
      relative = ref.slice('s3://'.length);
    } else {
      throw new IngestError('content_unavailable', `unsupported content reference "${ref.slice(0, 100)}" (use local:… for uploads or s3://bucket/key)`);
    }
    const outside = () => new IngestError('content_unavailable', `the content reference "${ref.slice(0, 100)}" points outside its store`);
    // No `.`/`..`/empty segments, backslashes or NUL: a reference names one file, literally.
    if (!isPlainPath(relative)) throw outside();
    const path = resolve(root, relative);
    // An object stays inside its own bucket's directory, not merely inside the object-store root.
    const slash = relative.indexOf('/');
    const within = root === this.objectStoreDir ? (slash > 0 ? resolve(root, relative.slice(0, slash)) : undefined) : root;
    if (!within || !path.startsWith(within + sep)) throw outside();
    return path;
  }
}

/** The upload folder of a tenant: a digest, so any id makes a plain, fixed-length folder name. */
function tenantFolder(tenantId: string): string {
  return createHash('sha256').update(tenantId, 'utf8').digest('hex').slice(0, 32);
}

/** A relative path of one or more plain segments: none empty, `.` or `..`; no backslash or NUL. */
export function isPlainPath(path: string): boolean {
  return !/[\\\0]/.test(path) && path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
