import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONSUMER_GROUPS, fifoGroupOf, namespaced, TOPICS, type EventInput } from '@aip/contracts';
import { createEmbeddings } from '@aip/embeddings';
import { ApiKeyStore } from '@aip/keys';
import { createKnowledgeStore, type KnowledgeStore } from '@aip/knowledge';
import { EventPublisher } from '@aip/messaging';
import { Producer } from 'rocketmq-client-nodejs';
import { createLogger, startPlatformApp } from '@aip/runtime';
import { Collector, deleteKeys, provisionNamespace, testConnection, testRedis, testRedisUrl, uniqueName, uniqueNamespace } from '@aip/testing';
import { appOptions } from '../src/app.options.ts';
import { KbEvents } from '../src/common/kb-events.ts';
import { loadKnowledgeIngestEnv, type KnowledgeIngestEnv } from '../src/knowledge-ingest.config.ts';

type Published = { type: string; tenantId: string; data: Record<string, unknown> };

/**
 * knowledge-ingest in this process on the real broker (the contracts' topics and groups in a
 * namespace of its own: ROCKETMQ_NAMESPACE),
 * real Redis (a prefix of its own), a real LanceDB in a temporary directory and the real embedded
 * model, whose document-embedding calls are counted.
 */
export class IngestApp {
  readonly redis = testRedis();
  readonly published = new Collector<Published>();
  embedCalls = 0;
  embeddedTexts = 0;
  env!: KnowledgeIngestEnv;
  store!: KnowledgeStore;
  private app!: NestFastifyApplication;
  private dir!: string;
  private url!: string;

  async start(extraEnv: Record<string, string> = {}): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), 'kb-int-'));
    const namespace = uniqueNamespace('kb-it');
    await provisionNamespace(namespace);
    this.env = loadKnowledgeIngestEnv({
      ROCKETMQ_ENDPOINTS: testConnection().endpoints,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: `${uniqueName('kbapp')}:`,
      LOG_LEVEL: 'warn',
      KNOWLEDGE_DATA_DIR: join(this.dir, 'data'),
      OBJECT_STORE_DIR: join(this.dir, 'objects'),
      LANCEDB_DIR: join(this.dir, 'lancedb'),
      ROCKETMQ_NAMESPACE: namespace,
      MAX_UPLOAD_BYTES: String(64 * 1024),
      PORT: '0',
      ...extraEnv,
    });
    const logger = createLogger('knowledge-ingest-test', 'warn');
    const model = await createEmbeddings({ provider: 'embedded' });
    const embedDocuments = model.embeddings.embedDocuments.bind(model.embeddings);
    const embeddings = {
      embedQuery: (text: string) => model.embeddings.embedQuery(text),
      embedDocuments: (texts: string[]) => {
        this.embedCalls++;
        this.embeddedTexts += texts.length;
        return embedDocuments(texts);
      },
    };
    this.store = await createKnowledgeStore({ provider: 'lancedb', dataDir: this.env.LANCEDB_DIR });
    await this.store.init(model.dimension);
    const running = await startPlatformApp(appOptions(this.env, { redis: this.redis, logger, store: this.store, embeddings: { embeddings, modelId: model.modelId } }, { host: '127.0.0.1' }));
    this.app = running.app;
    // Changes arrive only once the test publishes them: counting what the app publishes can start now.
    const events = this.app.get(KbEvents);
    const publish = events.publish.bind(events);
    events.publish = (async (type, data, tenantId) => {
      const receipt = await publish(type, data, tenantId);
      this.published.push({ type, tenantId, data: data as Record<string, unknown> });
      return receipt;
    }) as typeof events.publish;
    this.url = `http://127.0.0.1:${running.port}`;
    return this;
  }

  async key(tenantId: string): Promise<string> {
    return (await new ApiKeyStore(this.redis, this.env.REDIS_PREFIX).create({ tenantId })).key;
  }

  request(key: string | undefined, method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    if (body instanceof FormData) return fetch(`${this.url}${path}`, { method, headers, body });
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${this.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  async json<T = Record<string, unknown>>(key: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await this.request(key, method, path, body);
    return { status: response.status, body: (await response.json()) as T };
  }

  /** The broker's names of the app's `kb-change` topic and consumer group (in the harness's namespace). */
  get broker() {
    return { changeTopic: namespaced(this.env.ROCKETMQ_NAMESPACE, TOPICS.kbChange.name), group: namespaced(this.env.ROCKETMQ_NAMESPACE, CONSUMER_GROUPS.knowledgeIngest.name) };
  }

  /** Publishes a change as an external CDC producer would (same topic, tag, message group). */
  async publishChange<T extends 'kb.change.upsert' | 'kb.change.delete'>(type: T, data: EventInput<T>, tenantId: string) {
    return this.app.get(EventPublisher).publish(type, data, { tenantId });
  }

  /**
   * Publishes a kb-change message as a careless external producer might, with the plain client:
   * the envelope is not validated (EventPublisher would refuse what the consumer must dead-letter).
   */
  async publishRawChange(action: 'upsert' | 'delete', envelope: { id: string; tenantId: string; data: { kbId: string; docId: string } & Record<string, unknown> }) {
    const producer = new Producer({ endpoints: this.env.ROCKETMQ_ENDPOINTS, namespace: '' });
    await producer.startup();
    try {
      const body = { type: `kb.change.${action}`, version: 1, source: 'careless-cdc', time: new Date().toISOString(), ...envelope };
      // The plain client knows nothing of namespaces: it sends to the broker's name of the topic.
      return await producer.send({ topic: this.broker.changeTopic, tag: action, messageGroup: fifoGroupOf(envelope.data.kbId.replace(/\p{Cc}/gu, ''), envelope.data.docId.replace(/\p{Cc}/gu, '')), body: Buffer.from(JSON.stringify(body)) });
    } finally {
      await producer.shutdown();
    }
  }

  /** The lifecycle event published for a document after `since` events, awaited. */
  async lifecycle(docId: string, since = 0, timeoutMs = 90_000): Promise<Published> {
    const started = Date.now();
    for (;;) {
      const found = this.published.items.slice(since).find((e) => e.type.startsWith('kb.document.') && e.data['docId'] === docId);
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error(`no lifecycle event for ${docId} within ${timeoutMs} ms; published: ${JSON.stringify(this.published.items.map((e) => [e.type, e.data['docId']]))}`);
      await this.published.count(this.published.items.length + 1, Math.max(1, timeoutMs - (Date.now() - started))).catch(() => undefined);
    }
  }

  get baseUrl() {
    return this.url;
  }

  get objectStoreDir() {
    return this.env.OBJECT_STORE_DIR;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.store?.close().catch(() => undefined);
    await deleteKeys(this.redis, this.env.REDIS_PREFIX);
    this.redis.disconnect();
    await rm(this.dir, { recursive: true, force: true });
  }
}
