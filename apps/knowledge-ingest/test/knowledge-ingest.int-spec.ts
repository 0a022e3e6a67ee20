import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deadLetters, eventually } from '@aip/testing';
import { IngestApp } from './ingest-app.harness.ts';

type Passage = { text: string; score: number; source: { kbId: string; docId: string; version: string; position: number; title?: string } };
type DocView = { id: string; status: string; progress: { done: number; total: number }; activeVersion: string | null; error: string | null; chunks: number | null };

const harness = new IngestApp();
const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);
let acme: string;
let globex: string;

const beijing = `# Beijing travel notes

## Forbidden City
The Forbidden City was the imperial palace of the Ming and Qing dynasties. Buy tickets online a week ahead; it is closed on Mondays.

## Great Wall
The Mutianyu section of the Great Wall has a cable car and a toboggan ride down. Go early in spring or autumn.

## Food
Peking duck is carved at the table and eaten with thin pancakes, scallions and sweet bean sauce.`;

beforeAll(async () => {
  await harness.start({ OBJECT_STORE_MAPPINGS: JSON.stringify([{ bucket: 'handbook', prefix: 'public/', tenantId: 'acme', kbId: 'travel' }]) });
  acme = await harness.key('acme');
  globex = await harness.key('globex');
  expect((await harness.json(acme, 'POST', '/v1/knowledge-bases', { id: 'travel', name: 'Travel', chunkSize: 200, chunkOverlap: 0 })).status).toBe(201);
}, 300_000);

afterAll(() => harness.stop());

async function indexed(key: string, kb: string, docId: string, status: 'indexed' | 'failed' = 'indexed'): Promise<DocView> {
  let doc: DocView | undefined;
  await eventually(async () => {
    const response = await harness.json<DocView>(key, 'GET', `/v1/knowledge-bases/${kb}/documents/${encodeURIComponent(docId)}`);
    doc = response.body;
    if (status === 'indexed' && doc.status === 'failed') throw new Error(`document failed: ${doc.error}`);
    return response.status === 200 && doc.status === status;
  }, `${docId} ${status}`, 120_000);
  return doc!;
}

const query = (key: string, kb: string, text: string, mode = 'hybrid', limit = 10) => harness.json<{ data: Passage[] }>(key, 'POST', `/v1/knowledge-bases/${kb}/query`, { query: text, mode, limit });

describe('knowledge-ingest (real broker, Redis, LanceDB, embedded model)', () => {
  it('indexes an uploaded file and retrieves its passages with citations', async () => {
    const form = new FormData();
    form.append('docId', 'beijing');
    form.append('file', new Blob([beijing], { type: 'text/markdown' }), 'beijing.md');
    const upload = await harness.json<{ id: string; status: string }>(acme, 'POST', '/v1/knowledge-bases/travel/documents', form);
    expect(upload).toMatchObject({ status: 202, body: { id: 'beijing', status: 'queued' } });
    const doc = await indexed(acme, 'travel', 'beijing');
    expect(doc.progress.done).toBe(doc.progress.total);
    expect(doc.chunks).toBeGreaterThanOrEqual(3);
    const event = await harness.lifecycle('beijing');
    expect(event).toMatchObject({ type: 'kb.document.indexed', tenantId: 'acme', data: { kbId: 'travel', docId: 'beijing', chunks: doc.chunks, embedded: doc.chunks, reused: 0, keywords: expect.arrayContaining(['beijing', 'wall']) } });

    for (const mode of ['dense', 'fulltext', 'hybrid']) {
      const { status, body } = await query(acme, 'travel', 'Where can I eat Peking duck with pancakes?', mode, 3);
      expect(status).toBe(200);
      expect(body.data[0]).toMatchObject({ text: expect.stringContaining('Peking duck'), source: { kbId: 'travel', docId: 'beijing', version: doc.activeVersion, title: 'beijing.md' } });
    }
  });

  it('embeds nothing when the same document is uploaded again', async () => {
    const before = { calls: harness.embedCalls, texts: harness.embeddedTexts };
    const since = harness.published.items.length;
    const put = await harness.json(acme, 'PUT', '/v1/knowledge-bases/travel/documents/beijing', { mediaType: 'text/markdown', content: beijing, title: 'beijing.md' });
    expect(put.status).toBe(202);
    const event = await harness.lifecycle('beijing', since);
    expect(event.data).toMatchObject({ embedded: 0, reused: expect.any(Number) });
    expect(harness.embedCalls).toBe(before.calls);
    expect(harness.embeddedTexts).toBe(before.texts);
  });

  it('serves only the new version after a replacement', async () => {
    const since = harness.published.items.length;
    const replaced = beijing.replace('Peking duck is carved at the table', 'Zhajiangmian noodles with soybean paste are the local lunch');
    await harness.json(acme, 'PUT', '/v1/knowledge-bases/travel/documents/beijing', { mediaType: 'text/markdown', content: replaced, version: 'v2' });
    const event = await harness.lifecycle('beijing', since);
    // Only the changed section is embedded again.
    expect(event.data).toMatchObject({ version: 'v2', embedded: 1 });
    const { body } = await query(acme, 'travel', 'Peking duck carved at the table', 'fulltext');
    expect(body.data.every((p) => p.source.version === 'v2')).toBe(true);
    expect(body.data.some((p) => p.text.includes('Peking duck is carved'))).toBe(false);
    expect(await harness.store.count({ tenantId: 'acme', kbIds: ['travel'], docId: 'beijing' })).toBe(event.data['chunks']);
  });

  it('applies a CDC upsert and a following delete of the same document in order: nothing is retrievable afterwards', async () => {
    const since = harness.published.items.length;
    await harness.publishChange('kb.change.upsert', { kbId: 'travel', docId: 'cdc-1', mediaType: 'text/plain', content: 'The Summer Palace boat tour on Kunming Lake runs from April to October.', version: '1' }, 'acme');
    await harness.publishChange('kb.change.delete', { kbId: 'travel', docId: 'cdc-1' }, 'acme');
    const first = await harness.lifecycle('cdc-1', since);
    expect(first.type).toBe('kb.document.indexed');
    const second = await harness.lifecycle('cdc-1', harness.published.items.indexOf(first) + 1);
    expect(second.type).toBe('kb.document.deleted');
    for (const mode of ['dense', 'fulltext', 'hybrid']) {
      const { body } = await query(acme, 'travel', 'Summer Palace boat tour Kunming Lake', mode);
      expect(body.data.filter((p) => p.source.docId === 'cdc-1')).toEqual([]);
    }
    expect(await harness.store.count({ tenantId: 'acme', kbIds: ['travel'], docId: 'cdc-1' })).toBe(0);
    expect((await harness.request(acme, 'GET', '/v1/knowledge-bases/travel/documents/cdc-1')).status).toBe(404);
  });

  it('never lets one tenant see or search another tenant\'s knowledge', async () => {
    expect((await harness.json(globex, 'GET', '/v1/knowledge-bases/travel')).status).toBe(404);
    expect((await query(globex, 'travel', 'Great Wall')).status).toBe(404);
    expect((await harness.json(globex, 'GET', '/v1/knowledge-bases')).body).toEqual({ object: 'list', data: [] });
    // globex creates its own "travel" base and a CDC change writes to it; acme's chunks stay invisible.
    expect((await harness.json(globex, 'POST', '/v1/knowledge-bases', { id: 'travel' })).status).toBe(201);
    const since = harness.published.items.length;
    await harness.publishChange('kb.change.upsert', { kbId: 'travel', docId: 'globex-doc', mediaType: 'text/plain', content: 'Globex staff get a discount on Great Wall tours.' }, 'globex');
    await harness.lifecycle('globex-doc', since);
    const { body } = await query(globex, 'travel', 'Great Wall Mutianyu cable car', 'hybrid', 20);
    expect(body.data.map((p) => p.source.docId)).toEqual(['globex-doc']);
    const acmeView = await query(acme, 'travel', 'Globex discount Great Wall tours', 'hybrid', 20);
    expect(acmeView.body.data.some((p) => p.source.docId === 'globex-doc')).toBe(false);
  });

  it('marks a poison document failed, publishes the reason, and indexes the next document', async () => {
    const since = harness.published.items.length;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x34, 0x0a, 0xff, 0x00, 0x13])], { type: 'application/pdf' }), 'broken.pdf');
    expect((await harness.request(acme, 'POST', '/v1/knowledge-bases/travel/documents', form)).status).toBe(202);
    const next = await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', { docId: 'after-poison', mediaType: 'text/plain', content: 'The Temple of Heaven opens at six in the morning.' });
    expect(next.status).toBe(202);
    const failed = await harness.lifecycle('broken.pdf', since);
    expect(failed).toMatchObject({ type: 'kb.document.failed', data: { reason: expect.stringMatching(/^corrupt_pdf/) } });
    expect(await indexed(acme, 'travel', 'broken.pdf', 'failed')).toMatchObject({ error: expect.stringMatching(/^corrupt_pdf/), activeVersion: null });
    await indexed(acme, 'travel', 'after-poison');
    const { body } = await query(acme, 'travel', 'Temple of Heaven opening time');
    expect(body.data[0]?.source.docId).toBe('after-poison');
  });

  it('indexes and removes objects announced by object-store notifications', async () => {
    const key = 'public/guides/shanghai notes.md';
    await mkdir(dirname(join(harness.objectStoreDir, 'handbook', key)), { recursive: true });
    await writeFile(join(harness.objectStoreDir, 'handbook', key), '# Shanghai\n\nThe Bund is best seen at night from Pudong.');
    const record = (eventName: string) => ({ eventName, s3: { bucket: { name: 'handbook' }, object: { key: 'public/guides/shanghai+notes.md', eTag: '"e1"' } } });
    const since = harness.published.items.length;
    const created = await harness.json<{ accepted: { docId: string }[]; ignored: unknown[] }>(acme, 'POST', '/v1/notifications/object-store', { Records: [record('ObjectCreated:Put'), { ...record('ObjectCreated:Put'), s3: { bucket: { name: 'handbook' }, object: { key: 'private/x.md' } } }] });
    expect(created.status).toBe(202);
    expect(created.body.accepted.map((a) => a.docId)).toEqual(['guides/shanghai notes.md']);
    expect(created.body.ignored).toHaveLength(1);
    await harness.lifecycle('guides/shanghai notes.md', since);
    expect((await query(acme, 'travel', 'Bund at night', 'fulltext')).body.data[0]?.source.docId).toBe('guides/shanghai notes.md');
    // Another tenant cannot pull the bucket into its own base.
    expect((await harness.json<{ accepted: unknown[] }>(globex, 'POST', '/v1/notifications/object-store', { Records: [record('ObjectCreated:Put')] })).body.accepted).toEqual([]);
    const removedSince = harness.published.items.length;
    await harness.json(acme, 'POST', '/v1/notifications/object-store', { Records: [record('ObjectRemoved:Delete')] });
    expect((await harness.lifecycle('guides/shanghai notes.md', removedSince)).type).toBe('kb.document.deleted');
    expect((await query(acme, 'travel', 'Bund at night', 'fulltext')).body.data).toEqual([]);
  });

  it('understands an external producer that uses the plain RocketMQ client (tools/kb/cdc-producer.ts)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kb-cdc-'));
    await writeFile(join(dir, 'lama.md'), '# Lama Temple\n\nThe Lama Temple is a Tibetan Buddhist temple in Dongcheng.');
    const env = { ...process.env, ROCKETMQ_ENDPOINTS: harness.env.ROCKETMQ_ENDPOINTS, ROCKETMQ_NAMESPACE: harness.env.ROCKETMQ_NAMESPACE };
    const since = harness.published.items.length;
    const cli = (...args: string[]) => run(process.execPath, [join(root, 'tools/kb/cdc-producer.ts'), ...args], { env, cwd: root });
    // 74 characters: `travel:` + the id is more than the broker's 63-byte message group (issue 15).
    const lama = 'Lama Temple (Yonghe Gong) visitor guide: opening hours, tickets, etiquette';
    const sent = JSON.parse((await cli('upsert', '--tenant', 'acme', '--kb', 'travel', '--doc', lama, '--file', join(dir, 'lama.md'), '--version', '1')).stdout) as { eventId: string };
    expect(sent.eventId).toMatch(/^[0-9a-f-]{36}$/);
    // The platform's own delete of the same document lands in the same FIFO group, after the upsert.
    const upsertApplied = harness.lifecycle(lama, since);
    await harness.publishChange('kb.change.delete', { kbId: 'travel', docId: lama }, 'acme');
    const first = await upsertApplied;
    expect(first).toMatchObject({ type: 'kb.document.indexed', data: { version: '1' } });
    expect((await harness.lifecycle(lama, harness.published.items.indexOf(first) + 1)).type).toBe('kb.document.deleted');
    expect(await harness.store.count({ tenantId: 'acme', kbIds: ['travel'], docId: lama })).toBe(0);
  });

  it('uploads files with the newcomer command and reports when they are indexed (tools/kb/upload.ts)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kb-upload-'));
    await writeFile(join(dir, 'hutong.md'), '# Hutongs\n\nHutongs are narrow alleys of courtyard houses; rent a bike to see them.');
    await writeFile(join(dir, 'empty.txt'), '   ');
    const env = { ...process.env, AIP_API_KEY: acme, KNOWLEDGE_URL: harness.baseUrl };
    const result = await run(process.execPath, [join(root, 'tools/kb/upload.ts'), '--kb', 'newcomer', join(dir, 'hutong.md'), join(dir, 'empty.txt')], { env, cwd: root }).catch((error: { code: number; stdout: string }) => error);
    // One file failed (empty), so the command exits 1 and says why.
    expect((result as { code?: number }).code).toBe(1);
    expect(result.stdout).toContain('✓');
    expect(result.stdout).toMatch(/✗ .*empty\.txt: empty_document/);
    expect((await query(acme, 'newcomer', 'narrow alleys courtyard houses')).body.data[0]?.source.docId).toBe('hutong.md');
  });

  it('answers bad requests with the platform error shape', async () => {
    const noKey = await harness.json<{ error: { code: string } }>(undefined, 'GET', '/v1/knowledge-bases');
    expect(noKey).toMatchObject({ status: 401, body: { error: { code: 'missing_api_key', type: 'authentication_error' } } });
    const badKey = await harness.json(`sk-aip-not-a-key`, 'GET', '/v1/knowledge-bases');
    expect(badKey.status).toBe(401);
    const badBody = await harness.json<{ error: { param: string; code: string } }>(acme, 'POST', '/v1/knowledge-bases/travel/documents', { mediaType: 'text/plain' });
    expect(badBody).toMatchObject({ status: 400, body: { error: { param: 'content', type: 'invalid_request_error' } } });
    const badType = await harness.json<{ error: { code: string } }>(acme, 'POST', '/v1/knowledge-bases/travel/documents', { mediaType: 'image/png', content: 'x' });
    expect(badType).toMatchObject({ status: 400, body: { error: { code: 'unsupported_media_type', param: 'mediaType' } } });
    const exists = await harness.json(acme, 'POST', '/v1/knowledge-bases', { id: 'travel' });
    expect(exists.status).toBe(409);
    const form = new FormData();
    form.append('file', new Blob(['x'.repeat(100 * 1024)], { type: 'text/plain' }), 'big.txt');
    const tooBig = await harness.json<{ error: { message: string; type: string } }>(acme, 'POST', '/v1/knowledge-bases/travel/documents', form);
    expect(tooBig).toMatchObject({ status: 413, body: { error: { type: 'invalid_request_error' } } });
    expect((await harness.json(acme, 'GET', '/v1/knowledge-bases/travel/documents/big.txt')).status).toBe(404);
    const two = new FormData();
    two.append('file', new Blob(['a'], { type: 'text/plain' }), 'a.txt');
    two.append('file', new Blob(['b'], { type: 'text/plain' }), 'b.txt');
    expect(await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', two)).toMatchObject({ status: 400, body: { error: { param: 'file' } } });
    const noFile = new FormData();
    noFile.append('docId', 'x');
    expect(await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', noFile)).toMatchObject({ status: 400, body: { error: { param: 'file' } } });
    expect((await harness.json(acme, 'GET', '/v1/knowledge-bases/travel/documents/a.txt')).status).toBe(404);
    const notification = await harness.json(acme, 'POST', '/v1/notifications/object-store', { Records: [{ eventName: 'Nope', s3: {} }] });
    expect(notification.status).toBe(400);
  });

  // Regression (issue 15): a 70-character file name (the doc id by default) made a message group
  // longer than the broker's 64-byte limit: a permanent "503 broker unavailable; retry".
  it('accepts any document id the API accepts, up to 128 characters of any script, end to end', async () => {
    const since = harness.published.items.length;
    const name = 'Temple of Heaven - Hall of Prayer for Good Harvests, visiting notes.md';
    expect(name.length).toBe(70);
    const form = new FormData();
    form.append('file', new Blob(['The Hall of Prayer for Good Harvests has three roofs of blue tiles.'], { type: 'text/markdown' }), name);
    expect(await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', form)).toMatchObject({ status: 202, body: { id: name, status: 'queued' } });
    const longest = `${'天坛'.repeat(62)}.txt`;
    expect(longest.length).toBe(128);
    const put = await harness.json(acme, 'PUT', `/v1/knowledge-bases/travel/documents/${encodeURIComponent(longest)}`, { mediaType: 'text/plain', content: 'The Echo Wall carries a whisper around the whole circle.', version: 'rev 2 (final)' });
    expect(put).toMatchObject({ status: 202, body: { id: longest } });
    expect(await indexed(acme, 'travel', name)).toMatchObject({ status: 'indexed' });
    expect(await indexed(acme, 'travel', longest)).toMatchObject({ status: 'indexed', activeVersion: 'rev 2 (final)' });
    expect((await harness.lifecycle(longest, since)).type).toBe('kb.document.indexed');
    expect((await query(acme, 'travel', 'whisper around the Echo Wall', 'fulltext')).body.data[0]?.source.docId).toBe(longest);
  });

  // Regressions (issues 14, 16): a NUL version was accepted (202), indexed, and broke every query
  // of the tenant; a lone surrogate in a doc id and malformed multipart bodies were 500s.
  it('refuses ids that fail the id rule at every entry with a 400 in the platform shape, and dead-letters such messages', async () => {
    const invalid = (response: { status: number; body: unknown }, param: string | null) => expect(response).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', param, message: expect.any(String) } } });
    invalid(await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', { docId: 'nul-version', mediaType: 'text/plain', content: 'x', version: '\u0000' }), 'version');
    invalid(await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', { docId: 'lone \uD800 surrogate', mediaType: 'text/plain', content: 'x' }), 'docId');
    invalid(await harness.json(acme, 'PUT', '/v1/knowledge-bases/travel/documents/tab%09id', { mediaType: 'text/plain', content: 'x' }), 'doc');
    invalid(await harness.json(acme, 'GET', '/v1/knowledge-bases/travel/documents/a%00b'), 'doc');
    invalid(await harness.json(acme, 'DELETE', '/v1/knowledge-bases/travel/documents/%20%20'), 'doc');
    invalid(await harness.json(acme, 'POST', '/v1/knowledge-bases/bad%0Akb/query', { query: 'x' }), 'kb');
    invalid(await harness.json(acme, 'GET', `/v1/knowledge-bases/${'k'.repeat(129)}`), 'kb');
    const form = new FormData();
    form.append('version', 'v\u0000');
    form.append('file', new Blob(['x'], { type: 'text/plain' }), 'x.txt');
    invalid(await harness.json(acme, 'POST', '/v1/knowledge-bases/travel/documents', form), 'version');
    // A URL that is not valid percent-encoded UTF-8 (an unpaired surrogate) is refused by the router.
    const badUrl = await harness.request(acme, 'GET', '/v1/knowledge-bases/travel/documents/%ED%A0%80');
    expect(badUrl.status).toBe(400);
    expect(badUrl.headers.get('x-request-id')).toBeTruthy();
    expect(await badUrl.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'malformed_request' } });
    expect((await harness.json(acme, 'GET', '/v1/knowledge-bases/travel/documents/nul-version')).status).toBe(404);

    // A change-data-capture message with a NUL version is poison: dead-lettered at once, never
    // applied; the next change of the same document (same FIFO group) goes through.
    const since = harness.published.items.length;
    await harness.publishRawChange('upsert', { id: crypto.randomUUID(), tenantId: 'acme', data: { kbId: 'travel', docId: 'cdc-nul', mediaType: 'text/plain', content: 'Poison.', version: '\u0000' } });
    await harness.publishChange('kb.change.upsert', { kbId: 'travel', docId: 'cdc-nul', mediaType: 'text/plain', content: 'The Drum Tower drums sound every hour.', version: 'v1' }, 'acme');
    expect(await harness.lifecycle('cdc-nul', since)).toMatchObject({ type: 'kb.document.indexed', data: { version: 'v1' } });
    const dead = await deadLetters(harness.broker.group, 1);
    expect(dead.some((entry) => entry.bodyPreview.includes('careless-cdc'))).toBe(true);
    // Every query of the tenant still works.
    for (const mode of ['dense', 'fulltext', 'hybrid']) expect((await query(acme, 'travel', 'Drum Tower drums', mode)).status).toBe(200);
  });

  it('answers multipart bodies it cannot read with a 400 in the platform shape', async () => {
    const body = '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XYZ--\r\n';
    for (const contentType of ['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=wrong']) {
      const response = await fetch(`${harness.baseUrl}/v1/knowledge-bases/travel/documents`, { method: 'POST', headers: { authorization: `Bearer ${acme}`, 'content-type': contentType }, body });
      expect({ contentType, status: response.status, body: await response.json() }).toMatchObject({ contentType, status: 400, body: { error: { type: 'invalid_request_error', message: expect.any(String) } } });
    }
    const truncated = await fetch(`${harness.baseUrl}/v1/knowledge-bases/travel/documents`, { method: 'POST', headers: { authorization: `Bearer ${acme}`, 'content-type': 'multipart/form-data; boundary=XYZ' }, body: body.slice(0, 110) });
    expect(truncated.status).toBe(400);
  });

  it('deletes a knowledge base with everything in it', async () => {
    const gone = await harness.json<{ deleted: boolean; chunks: number }>(acme, 'DELETE', '/v1/knowledge-bases/travel');
    expect(gone.status).toBe(200);
    expect(gone.body.chunks).toBeGreaterThan(0);
    expect(await harness.store.count({ tenantId: 'acme', kbIds: ['travel'] })).toBe(0);
    expect((await harness.json(acme, 'GET', '/v1/knowledge-bases/travel')).status).toBe(404);
    expect(await harness.store.count({ tenantId: 'globex', kbIds: ['travel'] })).toBe(1);
  });
  it('does not bring back a deleted knowledge base with a late change', async () => {
    expect((await harness.json(acme, 'POST', '/v1/knowledge-bases', { id: 'gone' })).status).toBe(201);
    expect((await harness.json(acme, 'DELETE', '/v1/knowledge-bases/gone')).status).toBe(200);
    const since = harness.published.items.length;
    await harness.publishChange('kb.change.upsert', { kbId: 'gone', docId: 'late', mediaType: 'text/plain', content: 'Temple of Heaven opens at six.' }, 'acme');
    expect((await harness.lifecycle('late', since)).data).toMatchObject({ reason: 'knowledge base deleted' });
    expect((await harness.json(acme, 'GET', '/v1/knowledge-bases/gone')).status).toBe(404);
    expect(await harness.store.count({ tenantId: 'acme', kbIds: ['gone'] })).toBe(0);
  });
});
