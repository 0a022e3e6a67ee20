import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockLlm, type MockLlm } from '@aip/mock-llm';
import { createKey, eventually, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';

// Traces across the apps: real access, rate-limiter, inference and knowledge-ingest processes on
// the real broker and Redis, each exporting spans with the OpenTelemetry SDK (OTLP over HTTP/JSON,
// as the standard OTEL_* variables ask) to a receiver in this test. What an operator looking at
// Jaeger or Tempo notices: one chat request is one connected trace through every app it touched,
// with the model call described as GenAI spans are; an upload is one trace from the HTTP call
// through the broker to the indexing.
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const namespace = uniqueNamespace('e2e-trace');
const dataDir = mkdtempSync(join(tmpdir(), 'aip-trace-'));
const apps: RunningApp[] = [];
let accessApp: RunningApp;
let access: string;
let knowledge: string;
let llm: MockLlm;
let receiver: Server;

interface Span { service: string; traceId: string; spanId: string; parentSpanId: string; name: string; kind: number; attributes: Record<string, unknown> }
const spans: Span[] = [];

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values: AnyValue[] } };
const valueOf = (value: AnyValue): unknown => value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.boolValue ?? value.doubleValue ?? value.arrayValue?.values.map(valueOf);
const attributesOf = (list: { key: string; value: AnyValue }[] = []) => Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/** An OTLP/HTTP JSON trace receiver: what a collector would get. */
async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const payload = JSON.parse(body) as { resourceSpans?: { resource: { attributes: { key: string; value: AnyValue }[] }; scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: AnyValue }[] }[] }[] }[] };
      for (const resourceSpans of payload.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource.attributes)['service.name']);
        for (const scope of resourceSpans.scopeSpans) {
          for (const span of scope.spans) spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', name: span.name, kind: span.kind, attributes: attributesOf(span.attributes) });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

/** The spans of one trace once they include what `enough` asks for. */
async function traceOf(traceId: () => string | undefined, enough: (trace: Span[]) => boolean, what: string): Promise<Span[]> {
  await eventually(() => {
    const id = traceId();
    return id !== undefined && enough(spans.filter((span) => span.traceId === id));
  }, what, 30_000);
  return spans.filter((span) => span.traceId === traceId());
}

/** Every span's parent is in the trace, but for the one root: the trace is connected. */
function expectConnected(trace: Span[]): void {
  const ids = new Set(trace.map((span) => span.spanId));
  const roots = trace.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId));
  expect(roots.map((span) => `${span.service}: ${span.name}`)).toHaveLength(1);
}

beforeAll(async () => {
  const endpoint = await startReceiver();
  await provisionNamespace(namespace);
  llm = await startMockLlm({ reply: 'Traced words.' });
  const routing = { models: { 'mock-gpt': { providers: [{ name: 'mock', kind: 'openai-compatible', baseUrl: llm.url, model: 'gpt-y', firstTokenTimeoutMs: 5_000 }] } } };
  const shared = {
    ROCKETMQ_NAMESPACE: namespace,
    REDIS_PREFIX: `${uniqueName('e2e-trace')}:`,
    LANCEDB_DIR: join(dataDir, 'lancedb'),
    MODEL_ROUTING: JSON.stringify(routing),
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  await startApps(apps, [
    startApp('rate-limiter', shared),
    startApp('inference', { ...shared, WORKER_ID: uniqueName('worker'), RAG_TOP_K: '0', LOG_LEVEL: 'info' }),
    startApp('knowledge-ingest', { ...shared, KNOWLEDGE_DATA_DIR: join(dataDir, 'uploads') }),
    startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'mock-gpt' }),
  ]);
  const url = (name: string) => `http://127.0.0.1:${apps.find((app) => app.name === name)!.port}`;
  [access, knowledge] = [url('access'), url('knowledge-ingest')];
  accessApp = apps.find((app) => app.name === 'access')!;
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
  await llm?.close();
  receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('traces (OpenTelemetry, OTLP)', () => {
  it('makes one chat request one connected trace across access, the broker, the worker and the limiter, with the model call as a GenAI span', async () => {
    const { key } = await createKey(accessApp, ADMIN_TOKEN, { tenantId: 'acme', models: ['mock-gpt'] });
    const response = await fetch(`${access}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'trace me' }] }) });
    expect(response.status).toBe(200);
    const chatTrace = () => spans.find((span) => span.service === 'access' && span.name === 'POST /v1/chat/completions')?.traceId;
    const trace = await traceOf(chatTrace, (found) => found.some((span) => span.name === 'ai.request.admitted process') && ['access', 'rate-limiter'].every((service) => found.some((span) => span.service === service && span.name === 'ai.inference.completed process')), 'the chat request traced through every app');
    expectConnected(trace);
    const names = (service: string) => new Set(trace.filter((span) => span.service === service).map((span) => span.name));
    expect([...names('access')]).toEqual(expect.arrayContaining(['POST /v1/chat/completions', 'admission (fast path)']));
    // Admitted at the edge (one hop), or handed to the limiter (a cold platform's first request often is): either way, one trace.
    const handedOver = names('access').has('ai.request.submitted publish');
    if (handedOver) expect([...names('rate-limiter')]).toEqual(expect.arrayContaining(['ai.request.submitted process', 'admission', 'ai.request.admitted publish']));
    else expect([...names('access')]).toContain('ai.request.admitted publish');
    expect([...names('inference')]).toEqual(expect.arrayContaining(['ai.request.admitted process', 'generate mock-gpt', 'chat gpt-y', 'ai.inference.started publish', 'ai.inference.completed publish']));
    expect([...names('rate-limiter')]).toEqual(expect.arrayContaining(['ai.inference.completed process']));
    // The consumer's span is the child of the publisher's span in another process.
    const consumed = trace.find((span) => span.name === 'ai.request.admitted process')!;
    expect(trace.find((span) => span.spanId === consumed.parentSpanId)).toMatchObject({ service: handedOver ? 'rate-limiter' : 'access', name: 'ai.request.admitted publish' });
    const modelCall = trace.find((span) => span.name === 'chat gpt-y')!;
    expect(modelCall.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'mock', 'gen_ai.request.model': 'gpt-y', 'gen_ai.usage.input_tokens': expect.any(Number), 'gen_ai.usage.output_tokens': expect.any(Number), 'gen_ai.response.finish_reasons': ['stop'] });
    expect(trace.find((span) => span.name === 'generate mock-gpt')!.spanId).toBe(modelCall.parentSpanId);
    // The worker's log lines of the request carry its trace id.
    const worker = apps.find((app) => app.name === 'inference')!;
    const completedLine = worker.output.join('').split('\n').find((line) => line.includes('generation completed') && line.includes(modelCall.traceId));
    expect(completedLine && JSON.parse(completedLine)).toMatchObject({ trace_id: modelCall.traceId, span_id: expect.stringMatching(/^[\da-f]{16}$/) });
  });

  it('makes one upload one connected trace from the HTTP call through the broker to the indexing', async () => {
    const { key } = await createKey(accessApp, ADMIN_TOKEN, { tenantId: 'acme', models: ['mock-gpt'] });
    const kbId = uniqueName('traced');
    const created = await fetch(`${knowledge}/v1/knowledge-bases`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: kbId }) });
    expect(created.status).toBe(201);
    const upload = await fetch(`${knowledge}/v1/knowledge-bases/${kbId}/documents`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ docId: 'notes', mediaType: 'text/markdown', content: '# Notes\n\nTraced from the upload to the index.' }) });
    expect(upload.status).toBe(202);
    const uploadTrace = () => spans.findLast((span) => span.service === 'knowledge-ingest' && span.name === 'POST /v1/knowledge-bases/:kb/documents')?.traceId;
    const trace = await traceOf(uploadTrace, (found) => found.some((span) => span.name === 'kb.change.upsert process') && found.some((span) => span.name === 'kb.document.indexed publish'), 'the upload traced to its indexing');
    expectConnected(trace);
    // Probes are not traced: an operator's trace list holds requests, not health checks.
    expect(spans.filter((span) => span.name.startsWith('GET /health'))).toEqual([]);
    expect(trace.find((span) => span.name === 'kb.change.upsert process')).toMatchObject({ service: 'knowledge-ingest', attributes: expect.objectContaining({ 'messaging.system': 'rocketmq', 'aip.tenant.id': 'acme' }) });
  });
});
