// One command for newcomers: uploads files to a knowledge base of the local platform and prints
// progress until each is indexed (or failed, with the reason).
//
//   node tools/kb/upload.ts docs/*.md handbook.pdf            # knowledge base "default"
//   node tools/kb/upload.ts --kb travel --chunk-size 600 guides/*.md
//
// Uses the dev API key that `npm start` writes to .runtime/dev-api-key (or AIP_API_KEY), and
// KNOWLEDGE_URL (default http://127.0.0.1:3003).
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const MEDIA_TYPES: Record<string, string> = { '.md': 'text/markdown', '.markdown': 'text/markdown', '.txt': 'text/plain', '.html': 'text/html', '.htm': 'text/html', '.pdf': 'application/pdf' };

const { positionals: files, values } = parseArgs({
  allowPositionals: true,
  options: { kb: { type: 'string', default: 'default' }, 'chunk-size': { type: 'string' }, 'chunk-overlap': { type: 'string' }, url: { type: 'string' } },
});
if (files.length === 0) {
  console.error('usage: node tools/kb/upload.ts [--kb NAME] [--chunk-size N] [--chunk-overlap N] <files...>');
  process.exit(2);
}
const base = (values.url ?? process.env['KNOWLEDGE_URL'] ?? 'http://127.0.0.1:3003').replace(/\/$/, '');
const key = process.env['AIP_API_KEY'] ?? (await readFile(resolve('.runtime/dev-api-key'), 'utf8').catch(() => '')).trim();
if (!key) {
  console.error('no API key: run `npm start` once (it writes .runtime/dev-api-key) or set AIP_API_KEY');
  process.exit(2);
}
const headers = { authorization: `Bearer ${key}` };

async function call(method: string, path: string, body?: FormData | object): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof FormData) init.body = body;
  else if (body) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, init);
  } catch (error) {
    console.error(`cannot reach knowledge-ingest at ${base} (${(error as Error).message}); is the platform running (npm start)?`);
    process.exit(1);
  }
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

const kb = values.kb!;
const created = await call('POST', '/v1/knowledge-bases', {
  id: kb,
  ...(values['chunk-size'] ? { chunkSize: Number(values['chunk-size']) } : {}),
  ...(values['chunk-overlap'] ? { chunkOverlap: Number(values['chunk-overlap']) } : {}),
});
if (created.status !== 201 && created.status !== 409) {
  console.error(`cannot create knowledge base "${kb}": ${JSON.stringify(created.json)}`);
  process.exit(1);
}
console.log(created.status === 201 ? `created knowledge base "${kb}"` : `knowledge base "${kb}"`);

const pending = new Map<string, string>();
for (const file of files) {
  const form = new FormData();
  const mediaType = MEDIA_TYPES[extname(file).toLowerCase()] ?? 'text/plain';
  form.append('file', new Blob([await readFile(file)], { type: mediaType }), basename(file));
  const { status, json } = await call('POST', `/v1/knowledge-bases/${encodeURIComponent(kb)}/documents`, form);
  if (status !== 202) {
    console.error(`✗ ${file}: ${(json['error'] as { message?: string } | undefined)?.message ?? status}`);
    continue;
  }
  pending.set(String(json['id']), file);
  console.log(`↑ ${file} → document "${String(json['id'])}" queued`);
}

let failed = files.length - pending.size;
const shown = new Map<string, string>();
while (pending.size > 0) {
  await new Promise((r) => setTimeout(r, 500));
  for (const [docId, file] of pending) {
    const { status, json } = await call('GET', `/v1/knowledge-bases/${encodeURIComponent(kb)}/documents/${encodeURIComponent(docId)}`);
    if (status !== 200) continue;
    const progress = json['progress'] as { done: number; total: number };
    const line = `${json['status']} ${progress.done}/${progress.total} chunks`;
    if (shown.get(docId) !== line) console.log(`  ${file}: ${line}`);
    shown.set(docId, line);
    if (json['status'] === 'indexed') {
      console.log(`✓ ${file}: ${json['chunks']} chunks (${json['embedded']} embedded, ${json['reused']} reused)`);
      pending.delete(docId);
    } else if (json['status'] === 'failed') {
      console.log(`✗ ${file}: ${json['error']}`);
      pending.delete(docId);
      failed++;
    }
  }
}
console.log(`\nTry: curl ${base}/v1/knowledge-bases/${kb}/query -H "Authorization: Bearer $(cat .runtime/dev-api-key)" -H 'content-type: application/json' -d '{"query":"…"}'`);
process.exit(failed > 0 ? 1 : 0);
