import { pino } from 'pino';
import { register } from 'prom-client';
import { ConfigDocuments, DocumentWatch, documentWatch } from './config-documents.ts';
import { LOGGER } from './tokens.ts';

/** A ConfigDocuments whose versions the test publishes by hand. */
class HandFedDocuments {
  watchers = new Map<string, { apply: (d: { version: number; body: unknown }) => void | Promise<void>; onError?: (e: unknown) => void }>();
  stopped: string[] = [];
  watch(name: string, apply: (d: { version: number; body: unknown }) => void | Promise<void>, _intervalMs?: number, onError?: (e: unknown) => void) {
    this.watchers.set(name, { apply, ...(onError ? { onError } : {}) });
    return { stop: () => void this.stopped.push(name), catchUp: async () => undefined };
  }
  async publish(name: string, version: number, body: unknown) {
    const watcher = this.watchers.get(name)!;
    try {
      await watcher.apply({ version, body });
    } catch (error) {
      watcher.onError?.(error);
    }
  }
}

const errorsOf = async (document: string) =>
  (await register.getSingleMetric('aip_config_document_errors_total')!.get()).values.find((v) => v.labels['document'] === document)?.value ?? 0;

describe('document watches', () => {
  it('applies each version while the app runs, keeps the last good one when a version is refused, and stops before shutdown', async () => {
    const documents = new HandFedDocuments();
    let words: string[] = [];
    const watch = new DocumentWatch(documents as unknown as ConfigDocuments, 'words', (body) => {
      const list = (body as { words?: unknown }).words;
      if (!Array.isArray(list)) throw new Error('words must be a list');
      words = list as string[];
      return { words: words.length };
    }, pino({ level: 'silent' }));
    watch.onApplicationBootstrap();
    await documents.publish('words', 1, { words: ['a', 'b'] });
    expect(words).toEqual(['a', 'b']);
    const before = await errorsOf('words');
    await documents.publish('words', 2, { words: 'not a list' });
    expect(words).toEqual(['a', 'b']);
    expect(await errorsOf('words')).toBe(before + 1);
    watch.beforeApplicationShutdown();
    expect(documents.stopped).toEqual(['words']);
  });

  it('builds the watch as a provider from the providers it names', () => {
    const provider = documentWatch('routing', ['catalog'], (catalog: { aliases: string[] }) => (body) => void (catalog.aliases = Object.keys((body as { models: object }).models)));
    expect(provider.inject).toEqual([ConfigDocuments, LOGGER, 'catalog']);
    const documents = new HandFedDocuments();
    const catalog = { aliases: ['old'] };
    const watch = provider.useFactory(documents, pino({ level: 'silent' }), catalog) as DocumentWatch;
    watch.onApplicationBootstrap();
    return documents.publish('routing', 3, { models: { fast: {}, smart: {} } }).then(() => expect(catalog.aliases).toEqual(['fast', 'smart']));
  });
});
