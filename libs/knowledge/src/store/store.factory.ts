import { LanceDbStore } from './lancedb-store.adapter.ts';
import { QdrantStore } from './qdrant-store.adapter.ts';
import type { KnowledgeStoreConfig } from './store.config.ts';
import { KnowledgeStoreError } from './store.errors.ts';
import type { StoreLogger } from './store.logger.ts';
import type { KnowledgeStore } from './store.port.ts';

/** The configured adapter; call `init(dimension)` on it before use. */
export function createKnowledgeStore(config: KnowledgeStoreConfig, options: { logger?: StoreLogger } = {}): KnowledgeStore {
  const logger = options.logger ? { logger: options.logger } : {};
  switch (config.provider) {
    case 'lancedb':
      return new LanceDbStore({ dataDir: config.dataDir ?? '.runtime/lancedb', ...logger });
    case 'qdrant':
      if (!config.url) throw new KnowledgeStoreError('invalid_config', 'the qdrant store needs a url (QDRANT_URL)');
      return new QdrantStore({ url: config.url, ...(config.apiKey ? { apiKey: config.apiKey } : {}), ...(config.collection ? { collection: config.collection } : {}), ...logger });
    default:
      throw new KnowledgeStoreError('invalid_config', `unknown vector store provider ${JSON.stringify((config as { provider: unknown }).provider)}: use lancedb or qdrant`);
  }
}
