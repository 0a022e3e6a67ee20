import type { ModelCatalog } from './models/model-catalog.ts';
import { wordsDocumentSchema, type Moderation } from './moderation/moderation.service.ts';

/** What `ConfigDocuments` of @aip/runtime offers (structural, so this lib needs no Redis). */
export interface DocumentWatcher {
  watch<T>(name: string, apply: (document: { version: number; body: T }) => void | Promise<void>, intervalMs?: number, onError?: (error: unknown) => void): () => void;
}

export interface WatchOptions {
  onApplied?: (version: number) => void;
  /** A document that cannot be read or is invalid: the previous one stays in force. */
  onError?: (error: unknown) => void;
  intervalMs?: number;
}

/** Applies every new version of the `words` document to `moderation`; returns a stop function. */
export function watchWordsDocument(documents: DocumentWatcher, moderation: Moderation, options: WatchOptions = {}): () => void {
  return documents.watch<unknown>(
    'words',
    ({ body, version }) => {
      moderation.apply(wordsDocumentSchema.parse(body));
      options.onApplied?.(version);
    },
    options.intervalMs ?? 1_000,
    options.onError,
  );
}

/** Applies every new version of the `routing` document's aliases to `catalog`; returns a stop function. */
export function watchRoutingDocument(documents: DocumentWatcher, catalog: ModelCatalog, options: WatchOptions = {}): () => void {
  return documents.watch<unknown>(
    'routing',
    ({ body, version }) => {
      catalog.applyRouting(body);
      options.onApplied?.(version);
    },
    options.intervalMs ?? 1_000,
    options.onError,
  );
}
