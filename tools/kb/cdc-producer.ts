// Example change-data-capture producer for integrators: publishes `kb.change.upsert` and
// `kb.change.delete` with the plain RocketMQ 5 Node client (rocketmq-client-nodejs), exactly as
// an external system would — no platform code. See docs/guides/knowledge.md for the format.
//
//   node tools/kb/cdc-producer.ts upsert --tenant acme --kb travel --doc faq-1 --file faq.md [--version 7] [--title "FAQ"]
//   node tools/kb/cdc-producer.ts upsert --tenant acme --kb travel --doc handbook --content-ref s3://docs/handbook.pdf --media-type application/pdf
//   node tools/kb/cdc-producer.ts delete --tenant acme --kb travel --doc faq-1
//
// Environment: ROCKETMQ_ENDPOINTS (default 127.0.0.1:8081, the proxy's gRPC port), ROCKETMQ_NAMESPACE (the
// platform's broker namespace, if it runs in one: the topic is then `<namespace>_kb-change`),
// ROCKETMQ_ACCESS_KEY / ROCKETMQ_SECRET_KEY (the broker user `cdc` when access control is on).
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { Producer } from 'rocketmq-client-nodejs';

const MEDIA_TYPES: Record<string, string> = { '.md': 'text/markdown', '.markdown': 'text/markdown', '.txt': 'text/plain', '.html': 'text/html', '.htm': 'text/html', '.pdf': 'application/pdf' };

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    kb: { type: 'string' },
    doc: { type: 'string' },
    file: { type: 'string' },
    'content-ref': { type: 'string' },
    'media-type': { type: 'string' },
    version: { type: 'string' },
    title: { type: 'string' },
  },
});
const action = positionals[0];
if ((action !== 'upsert' && action !== 'delete') || !values.tenant || !values.kb || !values.doc) {
  console.error('usage: cdc-producer.ts upsert|delete --tenant T --kb KB --doc DOC [--file F | --content-ref s3://bucket/key] [--media-type M] [--version V] [--title T]');
  process.exit(2);
}

let data: Record<string, unknown> = { kbId: values.kb, docId: values.doc };
if (action === 'upsert') {
  const source = values.file ?? values['content-ref'];
  const mediaType = values['media-type'] ?? (source ? MEDIA_TYPES[extname(source).toLowerCase()] : undefined);
  if (!source || !mediaType) {
    console.error('upsert needs --file or --content-ref, and --media-type when the extension does not tell it');
    process.exit(2);
  }
  if (values.file && mediaType === 'application/pdf') {
    console.error('inline content is text; publish a PDF by reference (--content-ref s3://bucket/key) or upload it over HTTP');
    process.exit(2);
  }
  data = {
    ...data,
    mediaType,
    title: values.title ?? basename(source),
    // Inline text (at most 4 MiB; the broker's message limit is 4 MiB too) or a reference to the content.
    ...(values.file ? { content: await readFile(values.file, 'utf8') } : { contentRef: values['content-ref'] }),
    ...(values.version ? { version: values.version } : {}),
    metadata: { source: 'cdc-producer' },
  };
}

// The envelope every platform message carries; `id` is the consumer's idempotency key, so a
// producer that retries a send must reuse it.
const envelope = {
  id: randomUUID(),
  type: `kb.change.${action}`,
  version: 1,
  source: 'example-cdc',
  time: new Date().toISOString(),
  tenantId: values.tenant,
  key: values.doc,
  data,
};

// Ids (tenant, knowledge base, document, version): 1-128 characters of valid Unicode, not blank,
// no control characters or line breaks; anything else is dead-lettered by knowledge-ingest.
// FIFO message group: `kbId:docId` when the broker takes it (at most 63 UTF-8 bytes, no control
// character), else `sha256:` + the first 40 hex digits of SHA-256(`kbId:docId`). Every producer of
// a document (uploads, notifications, CDC) must derive it the same way, or their changes of one
// document are not applied in order. Keys: the doc id, or its digest when the broker refuses it.
const digest = (value: string) => `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 40)}`;
// eslint-disable-next-line no-control-regex
const brokerTakes = (value: string, maxBytes: number) => value.trim() !== '' && !/[\u0000-\u001f\u007f-\u009f]/.test(value) && Buffer.byteLength(value) <= maxBytes;
const plainGroup = `${values.kb}:${values.doc}`;
const messageGroup = brokerTakes(plainGroup, 63) ? plainGroup : digest(plainGroup);
const key = brokerTakes(values.doc, 512) ? values.doc : digest(values.doc);

// With access control on, as the broker user `cdc` (ROCKETMQ_ACCESS_KEY / ROCKETMQ_SECRET_KEY; `npm start`
// with ROCKETMQ_ACL=on keeps its secret in .runtime/broker-cdc.secret): it may publish to kb-change only.
const accessKey = process.env['ROCKETMQ_ACCESS_KEY'];
const accessSecret = process.env['ROCKETMQ_SECRET_KEY'];
// A platform in a broker namespace (ROCKETMQ_NAMESPACE, docs/adr/0021) names its topics `<namespace>_<name>`;
// the client's own `namespace` option is not that (the proxy ignores it).
const namespace = process.env['ROCKETMQ_NAMESPACE'] ?? '';
const topic = namespace ? `${namespace}_kb-change` : 'kb-change';
const producer = new Producer({ endpoints: process.env['ROCKETMQ_ENDPOINTS'] ?? '127.0.0.1:8081', namespace: '', ...(accessKey && accessSecret ? { sessionCredentials: { accessKey, accessSecret } } : {}) });
await producer.startup();
try {
  const receipt = await producer.send({
    topic,
    tag: action,
    keys: [key],
    // FIFO: every change of one document goes to the same message group, so they apply in order.
    messageGroup,
    properties: new Map([['aip-event-id', envelope.id], ['aip-event-type', envelope.type]]),
    body: Buffer.from(JSON.stringify(envelope)),
  });
  console.log(JSON.stringify({ messageId: receipt.messageId, eventId: envelope.id, type: envelope.type, tenantId: values.tenant, kbId: values.kb, docId: values.doc }));
} finally {
  await producer.shutdown();
}
