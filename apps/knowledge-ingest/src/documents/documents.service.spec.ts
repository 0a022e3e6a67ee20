import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KnowledgeRegistry } from '@aip/knowledge';
import { pino } from 'pino';
import type { KbEvents } from '../common/kb-events.ts';
import { ContentStore } from '../content/content.store.ts';
import { DocumentsService } from './documents.service.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'documents-service-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('DocumentsService', () => {
  it('leaves no upload on disk when the document cannot be marked queued', async () => {
    const registry = {
      markQueued: async () => {
        throw new Error('redis unavailable');
      },
    } as unknown as KnowledgeRegistry;
    const published: unknown[] = [];
    const events = { publish: async (...args: unknown[]) => void published.push(args) } as unknown as KbEvents;
    const service = new DocumentsService(registry, new ContentStore(join(dir, 'data'), join(dir, 'objects')), events, pino({ level: 'silent' }));
    await expect(service.submitJson('acme', 'kb', { mediaType: 'text/plain', content: 'hello' } as never)).rejects.toThrow('redis unavailable');
    expect(await readdir(join(dir, 'data', 'uploads'))).toEqual([]);
    expect(published).toEqual([]);
  });
});
