import { HttpError } from '../settings/http-error.ts';
import type { DocumentView } from './indexing.ts';
import { indexingFraction } from './indexing.ts';
import type { KnowledgeApi } from './knowledge.client.ts';
import { Uploads, type UploadRow } from './uploads.store.ts';

function api(polls: DocumentView[], options: { refuseKb?: boolean } = {}): KnowledgeApi {
  return {
    ensureKnowledgeBase: async () => {
      if (options.refuseKb) throw new HttpError(403, 'not allowed');
    },
    upload: async (_kb, _file, onProgress) => {
      onProgress(0.5);
      onProgress(1);
      return { id: 'doc-1', status: 'queued' };
    },
    document: async () => polls.shift() ?? { id: 'doc-1', status: 'indexed', chunks: 3 },
  };
}

describe('Uploads', () => {
  it('takes a file through sending and indexing to indexed, the bar filling on the way', async () => {
    const seen: string[] = [];
    const uploads = new Uploads(api([{ id: 'doc-1', status: 'indexing', progress: { done: 1, total: 3 } }]), async () => undefined);
    uploads.subscribe((rows) => seen.push(`${rows[0]!.status}:${rows[0]!.text}:${rows[0]!.fraction.toFixed(2)}`));
    await uploads.uploadAll('travel', [new File(['The Forbidden City.'], 'sights.txt')]);
    expect(seen).toEqual([
      'queued::0.00',
      'uploading:uploading 0%:0.00',
      'uploading:uploading 50%:0.25',
      'uploading:uploading 100%:0.50',
      'uploading:uploading 100%:0.50',
      'indexing:queued 0%:0.50',
      'indexing:indexing 33%:0.67',
      'indexed:indexed · 3 chunks:1.00',
    ]);
    expect(uploads.value[0]).toMatchObject<Partial<UploadRow>>({ name: 'sights.txt', docId: 'doc-1' });
  });

  it('shows one failed row when the knowledge base cannot be created', async () => {
    const uploads = new Uploads(api([], { refuseKb: true }), async () => undefined);
    await uploads.uploadAll('travel', [new File(['a'], 'a.md'), new File(['b'], 'b.md')]);
    expect(uploads.value).toEqual([expect.objectContaining({ name: 'a.md, b.md', status: 'failed', text: 'cannot create knowledge base "travel": not allowed' })]);
  });

  it('shows why indexing failed', async () => {
    const uploads = new Uploads(api([{ id: 'doc-1', status: 'failed', error: { message: 'not a PDF' } }]), async () => undefined);
    await uploads.uploadAll('travel', [new File(['%PDF'], 'x.pdf')]);
    expect(uploads.value[0]).toMatchObject({ status: 'failed', text: 'failed: not a PDF', fraction: 0 });
  });
});

describe('indexingFraction', () => {
  it('reads fractions, percentages and counts alike', () => {
    expect(indexingFraction({ status: 'indexing', progress: 0.4 })).toBe(0.4);
    expect(indexingFraction({ status: 'indexing', progress: 40 })).toBe(0.4);
    expect(indexingFraction({ status: 'indexing', progress: { percent: 25 } })).toBe(0.25);
    expect(indexingFraction({ status: 'indexing', progress: { embedded: 3, chunks: 4 } })).toBe(0.75);
    expect(indexingFraction({ status: 'indexed' })).toBe(1);
    expect(indexingFraction({ status: 'queued' })).toBe(0);
  });
});
