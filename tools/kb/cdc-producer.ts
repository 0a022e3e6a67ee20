// Example change-data-capture producer for integrators: publishes `kb.change.upsert` and
// `kb.change.delete` with the plain RocketMQ 5 Node client (rocketmq-client-nodejs), exactly as
// an external system would — no platform code. See docs/guides/knowledge.md for the format.
//
//   node tools/kb/cdc-producer.ts upsert --tenant acme --kb travel --doc faq-1 --file faq.md [--version 7] [--title "FAQ"]
//   node tools/kb/cdc-producer.ts upsert --tenant acme --kb travel --doc handbook --content-ref s3://docs/handbook.pdf --media-type application/pdf
//   node tools/kb/cdc-producer.ts delete --tenant acme --kb travel --doc faq-1
//
// Environment: ROCKETMQ_ENDPOINTS (default 127.0.0.1:8081, the proxy's gRPC port), KB_CHANGE_TOPIC (default kb-change).
import { randomUUID } from 'node:crypto';
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

const producer = new Producer({ endpoints: process.env['ROCKETMQ_ENDPOINTS'] ?? '127.0.0.1:8081', namespace: '' });
await producer.startup();
try {
  const receipt = await producer.send({
    topic: process.env['KB_CHANGE_TOPIC'] ?? 'kb-change',
    tag: action,
    keys: [values.doc],
    // FIFO: every change of one document goes to the same message group, so they apply in order.
    messageGroup: `${values.kb}:${values.doc}`,
    properties: new Map([['aip-event-id', envelope.id], ['aip-event-type', envelope.type]]),
    body: Buffer.from(JSON.stringify(envelope)),
  });
  console.log(JSON.stringify({ messageId: receipt.messageId, eventId: envelope.id, type: envelope.type, tenantId: values.tenant, kbId: values.kb, docId: values.doc }));
} finally {
  await producer.shutdown();
}
