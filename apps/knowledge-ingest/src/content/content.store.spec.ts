import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { IngestError } from '@aip/knowledge';
import { ContentStore } from './content.store.ts';

let dir: string;
let contents: ContentStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'content-store-'));
  contents = new ContentStore(join(dir, 'data'), join(dir, 'objects'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as IngestError);

describe('ContentStore', () => {
  it('stores an upload and reads it back by reference until it is released', async () => {
    const ref = await contents.saveStream(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(ref).toMatch(/^local:uploads\/[0-9a-f-]{36}$/);
    expect(Buffer.from(await contents.read(ref)).toString()).toBe('hello world');
    await contents.release(ref);
    expect((await failure(contents.read(ref)))?.code).toBe('content_unavailable');
  });

  it('leaves nothing behind when the upload stream fails (e.g. the size limit)', async () => {
    const broken = new Readable({ read() {
      this.destroy(Object.assign(new Error('too large'), { code: 'FST_REQ_FILE_TOO_LARGE' }));
    } });
    await expect(contents.saveStream(broken)).rejects.toThrow('too large');
    expect(await readdir(join(dir, 'data', 'uploads'))).toEqual([]);
  });

  it('reads s3:// references from the object-store directory and never deletes them', async () => {
    await mkdir(join(dir, 'objects', 'docs', 'a b'), { recursive: true });
    await writeFile(join(dir, 'objects', 'docs', 'a b', 'c.md'), '# C');
    expect(Buffer.from(await contents.read('s3://docs/a b/c.md')).toString()).toBe('# C');
    await contents.release('s3://docs/a b/c.md');
    expect(Buffer.from(await contents.read('s3://docs/a b/c.md')).toString()).toBe('# C');
  });

  it('refuses references outside its two roots and unknown schemes', async () => {
    await writeFile(join(dir, 'secret.txt'), 'secret');
    for (const ref of ['local:../secret.txt', 's3://../secret.txt', 's3://docs/../../secret.txt', 'file:///etc/passwd', '/etc/passwd']) {
      const error = await failure(contents.read(ref));
      expect(error).toBeInstanceOf(IngestError);
      expect(error?.code).toBe('content_unavailable');
    }
  });

  it('keeps an s3:// reference inside its own bucket', async () => {
    await mkdir(join(dir, 'objects', 'acme-private'), { recursive: true });
    await writeFile(join(dir, 'objects', 'acme-private', 'secret.md'), 'secret');
    await mkdir(join(dir, 'objects', 'docs', 'handbook'), { recursive: true });
    for (const ref of ['s3://docs/handbook/../../acme-private/secret.md', 's3://docs/../acme-private/secret.md', 's3://docs/./handbook/../x.md', 's3://docs//x.md', 's3://docs', 's3://docs/', 's3://docs/a\\..\\secret.md', 's3://docs/a\0.md']) {
      const error = await failure(contents.read(ref));
      expect({ ref, code: error?.code }).toEqual({ ref, code: 'content_unavailable' });
      expect(error?.message).toMatch(/outside its store/);
    }
    expect(Buffer.from(await contents.read('s3://acme-private/secret.md')).toString()).toBe('secret');
  });
});
