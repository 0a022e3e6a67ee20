import { watchRoutingDocument, watchWordsDocument, type DocumentWatcher } from './config-watch.ts';
import { ModelCatalog } from './models/model-catalog.ts';
import { Moderation } from './moderation/moderation.service.ts';

/** Delivers documents by hand, as ConfigDocuments does on each new version. */
class FakeDocuments implements DocumentWatcher {
  readonly appliers = new Map<string, { apply: (d: { version: number; body: unknown }) => void | Promise<void>; onError?: ((e: unknown) => void) | undefined }>();
  watch<T>(name: string, apply: (d: { version: number; body: T }) => void | Promise<void>, _intervalMs?: number, onError?: (e: unknown) => void) {
    this.appliers.set(name, { apply: apply as (d: { version: number; body: unknown }) => void, onError });
    return () => this.appliers.delete(name);
  }
  async deliver(name: string, body: unknown, version = 1) {
    const watcher = this.appliers.get(name)!;
    try {
      await watcher.apply({ version, body });
    } catch (error) {
      watcher.onError?.(error);
    }
  }
}

describe('document watchers', () => {
  it('apply the words document to moderation and keep the old list when a version is invalid', async () => {
    const documents = new FakeDocuments();
    const moderation = new Moderation({ words: [], input: 'block' });
    const errors: unknown[] = [];
    const stop = watchWordsDocument(documents, moderation, { onError: (e) => errors.push(e) });
    await documents.deliver('words', { words: ['darn'], input: 'mask' });
    expect(moderation.input).toBe('mask');
    expect(moderation.filter.mask('DARN')).toBe('****');
    await documents.deliver('words', { words: 'not a list' }, 2);
    expect(errors).toHaveLength(1);
    expect(moderation.filter.matches('darn')).toBe(true);
    stop();
    expect(documents.appliers.size).toBe(0);
  });

  it('apply the routing document aliases to the catalogue', async () => {
    const documents = new FakeDocuments();
    const catalog = new ModelCatalog(['extractive']);
    const applied: number[] = [];
    watchRoutingDocument(documents, catalog, { onApplied: (v) => applied.push(v) });
    await documents.deliver('routing', { models: { 'gpt-4o': {}, extractive: {} } }, 3);
    expect(catalog.aliases).toEqual(['gpt-4o', 'extractive']);
    expect(applied).toEqual([3]);
  });
});
