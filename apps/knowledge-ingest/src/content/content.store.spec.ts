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
  contents = new ContentStore(join(dir, 'data'), join(dir, 'objects'), [
    { bucket: 'docs', prefix: '', tenantId: 'acme' },
    { bucket: 'acme-private', prefix: '', tenantId: 'acme' },
    { bucket: 'shared', prefix: 'globex/', tenantId: 'globex' },
  ]);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as IngestError);

describe('ContentStore', () => {
  it('stores an upload and reads it back by reference until it is released', async () => {
    const ref = await contents.saveStream('acme', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(ref).toMatch(/^local:uploads\/[0-9a-f]{32}\/[0-9a-f-]{36}$/);
    expect(Buffer.from(await contents.read(ref, 'acme')).toString()).toBe('hello world');
    await contents.release(ref, 'acme');
    expect((await failure(contents.read(ref, 'acme')))?.code).toBe('content_unavailable');
  });

  it('leaves nothing behind when the upload stream fails (e.g. the size limit)', async () => {
    const broken = new Readable({ read() {
      this.destroy(Object.assign(new Error('too large'), { code: 'FST_REQ_FILE_TOO_LARGE' }));
    } });
    await expect(contents.saveStream('acme', broken)).rejects.toThrow('too large');
    const [folder] = await readdir(join(dir, 'data', 'uploads'));
    expect(await readdir(join(dir, 'data', 'uploads', folder!))).toEqual([]);
  });

  it('reads s3:// references from the object-store directory and never deletes them', async () => {
    await mkdir(join(dir, 'objects', 'docs', 'a b'), { recursive: true });
    await writeFile(join(dir, 'objects', 'docs', 'a b', 'c.md'), '# C');
    expect(Buffer.from(await contents.read('s3://docs/a b/c.md', 'acme')).toString()).toBe('# C');
    await contents.release('s3://docs/a b/c.md', 'acme');
    expect(Buffer.from(await contents.read('s3://docs/a b/c.md', 'acme')).toString()).toBe('# C');
  });

  it('refuses references outside its two roots and unknown schemes', async () => {
    await writeFile(join(dir, 'secret.txt'), 'secret');
    for (const ref of ['local:../secret.txt', 's3://../secret.txt', 's3://docs/../../secret.txt', 'file:///etc/passwd', '/etc/passwd']) {
      const error = await failure(contents.read(ref, 'acme'));
      expect(error).toBeInstanceOf(IngestError);
      expect(error?.code).toBe('content_unavailable');
    }
  });

  it('keeps an s3:// reference inside its own bucket', async () => {
    await mkdir(join(dir, 'objects', 'acme-private'), { recursive: true });
    await writeFile(join(dir, 'objects', 'acme-private', 'secret.md'), 'secret');
    await mkdir(join(dir, 'objects', 'docs', 'handbook'), { recursive: true });
    for (const ref of ['s3://docs/handbook/../../acme-private/secret.md', 's3://docs/../acme-private/secret.md', 's3://docs/./handbook/../x.md', 's3://docs//x.md', 's3://docs', 's3://docs/', 's3://docs/a\\..\\secret.md', 's3://docs/a\0.md']) {
      const error = await failure(contents.read(ref, 'acme'));
      expect({ ref, code: error?.code }).toEqual({ ref, code: 'content_unavailable' });
      expect(error?.message).toMatch(/outside its store/);
    }
    expect(Buffer.from(await contents.read('s3://acme-private/secret.md', 'acme')).toString()).toBe('secret');
  });

  it("reads a reference only for its own tenant: another tenant's upload or unmapped bucket is content_forbidden, and never deleted", async () => {
    const theirs = await contents.saveBytes('globex', 'globex only');
    const forbidden = await failure(contents.read(theirs, 'acme'));
    expect(forbidden?.code).toBe('content_forbidden');
    await contents.release(theirs, 'acme');
    expect(Buffer.from(await contents.read(theirs, 'globex')).toString()).toBe('globex only');

    await mkdir(join(dir, 'objects', 'shared', 'globex'), { recursive: true });
    await mkdir(join(dir, 'objects', 'shared', 'acme'), { recursive: true });
    await writeFile(join(dir, 'objects', 'shared', 'globex', 'plan.md'), 'globex plan');
    await writeFile(join(dir, 'objects', 'shared', 'acme', 'x.md'), 'acme');
    expect(Buffer.from(await contents.read('s3://shared/globex/plan.md', 'globex')).toString()).toBe('globex plan');
    // Same bucket, another tenant's prefix; a bucket nobody mapped; a mapped bucket of another tenant.
    for (const [ref, tenant] of [['s3://shared/globex/plan.md', 'acme'], ['s3://shared/acme/x.md', 'globex'], ['s3://docs/a b/c.md', 'globex']] as const) {
      expect({ ref, tenant, code: (await failure(contents.read(ref, tenant)))?.code }).toEqual({ ref, tenant, code: 'content_forbidden' });
    }
  });
});
