import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IngestError } from '@aip/knowledge';

/**
 * Content by reference, so large documents never travel through the broker:
 * - `local:uploads/<id>`: an upload stored under the data directory by this service (embedded
 *   setup; several instances need a shared volume or object storage instead);
 * - `s3://<bucket>/<key>`: an object-store object, read from a local mirror directory in the
 *   embedded setup (`OBJECT_STORE_DIR/<bucket>/<key>`).
 * Nothing outside these two roots can be read: a reference is untrusted input.
 */
export class ContentStore {
  private readonly dataDir: string;
  private readonly objectStoreDir: string;

  constructor(dataDir: string, objectStoreDir: string) {
    this.dataDir = resolve(dataDir);
    this.objectStoreDir = resolve(objectStoreDir);
  }

  /** Streams an upload to disk; on any error (e.g. the size limit) nothing is left behind. */
  async saveStream(stream: Readable): Promise<string> {
    const { ref, path } = await this.newUpload();
    try {
      await pipeline(stream, createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return ref;
  }

  async saveBytes(bytes: Uint8Array | string): Promise<string> {
    const { ref, path } = await this.newUpload();
    await writeFile(path, bytes);
    return ref;
  }

  async read(ref: string): Promise<Uint8Array> {
    const path = this.pathOf(ref);
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') throw new IngestError('content_unavailable', `the content "${ref}" does not exist`);
      throw error;
    }
  }

  /** Removes an upload once its change was applied for good (object-store objects are not ours to delete). */
  async release(ref: string): Promise<void> {
    if (ref.startsWith('local:')) await rm(this.pathOf(ref), { force: true });
  }

  private async newUpload() {
    const dir = join(this.dataDir, 'uploads');
    await mkdir(dir, { recursive: true });
    const name = randomUUID();
    return { ref: `local:uploads/${name}`, path: join(dir, name) };
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

/** A relative path of one or more plain segments: none empty, `.` or `..`; no backslash or NUL. */
export function isPlainPath(path: string): boolean {
  return !/[\\\0]/.test(path) && path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
