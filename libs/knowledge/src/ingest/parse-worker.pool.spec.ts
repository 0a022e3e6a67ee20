import { prepareDocument, type PrepareInput } from './document.preparer.ts';
import { IngestError } from './ingest.errors.ts';
import { DEFAULT_INGEST_LIMITS } from './ingest.limits.ts';
import { ParseWorkerPool } from './parse-worker.pool.ts';
import { pdfWithPages } from './testing/pdf.fixture.ts';

const hostile = new URL('./testing/hostile-parse.worker.ts', import.meta.url);
const settings = { chunkSize: 200, chunkOverlap: 0 };
const input = (content: Uint8Array | string, mediaType: string, extra: Partial<PrepareInput> = {}): PrepareInput => ({ content, mediaType, settings, limits: DEFAULT_INGEST_LIMITS, ...extra });
const guide = '# Beijing\n\n## Forbidden City\n\nBuy tickets a week ahead; it is closed on Mondays.\n\n## Great Wall\n\nThe Mutianyu section has a cable car.';

const pools: ParseWorkerPool[] = [];
function pool(options: Partial<ConstructorParameters<typeof ParseWorkerPool>[0]> = {}) {
  const created = new ParseWorkerPool({ size: 1, timeoutMs: 60_000, memoryMb: 256, ...options });
  pools.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** Counts turns of this thread's event loop until stopped: proof that it was free meanwhile. */
function loopTurns() {
  let turns = 0;
  const timer = setInterval(() => (turns += 1), 1);
  return () => {
    clearInterval(timer);
    return turns;
  };
}

describe('ParseWorkerPool', () => {
  it('prepares a document in a worker exactly as in this thread, and keeps the reasons of poison input', async () => {
    const workers = pool();
    const request = input(new Uint8Array(Buffer.from(guide)), 'text/markdown', { title: 'Travel' });
    expect(await workers.prepare(request)).toEqual(await prepareDocument(request));
    const pages = await failure(workers.prepare(input(pdfWithPages([['one'], ['two'], ['three']]), 'application/pdf', { limits: { ...DEFAULT_INGEST_LIMITS, maxPdfPages: 2 } })));
    expect(pages).toBeInstanceOf(IngestError);
    expect(pages).toMatchObject({ code: 'too_large', message: 'the PDF has 3 pages; the limit is 2' });
    expect((await failure(workers.prepare(input('x'.repeat(1_000), 'text/plain', { limits: { ...DEFAULT_INGEST_LIMITS, maxChunks: 3 } })))).message).toMatch(/makes 5 chunks .* the limit is 3/);
    expect((await failure(workers.prepare(input(new Uint8Array([0xff, 0xfe, 0xfd]), 'text/plain; charset=utf-8')))) as IngestError).toMatchObject({ code: 'bad_encoding' });
    // Poison input does not cost a worker.
    expect(workers.stats).toMatchObject({ spawned: 1, killed: 0, running: 0, queued: 0 });
  });

  it('fails a document that parses for longer than the limit with parse_timeout, while this event loop keeps running, and replaces the worker', async () => {
    const workers = pool({ workerUrl: hostile, timeoutMs: 300 });
    const stop = loopTurns();
    const stuck = await failure(workers.prepare(input('never ends', 'application/x-spin')));
    expect(stop()).toBeGreaterThan(0);
    expect(stuck).toBeInstanceOf(IngestError);
    expect(stuck).toMatchObject({ code: 'parse_timeout', message: 'parsing the document took longer than 300 ms' });
    expect(workers.stats).toMatchObject({ spawned: 1, killed: 1, running: 0 });
    // The next document gets a fresh worker.
    expect((await workers.prepare(input(guide, 'text/markdown'))).chunks.length).toBeGreaterThan(0);
    expect(workers.stats).toMatchObject({ spawned: 2, killed: 1 });
  });

  it('fails a document that needs more memory than the limit with too_large, and replaces the worker', async () => {
    const workers = pool({ workerUrl: hostile, memoryMb: 32 });
    const stop = loopTurns();
    const balloon = await failure(workers.prepare(input('grows', 'application/x-balloon')));
    expect(stop()).toBeGreaterThan(0);
    expect(balloon).toBeInstanceOf(IngestError);
    expect(balloon).toMatchObject({ code: 'too_large', message: "parsing the document needs more than the parser's memory limit of 32 MiB" });
    expect((await workers.prepare(input(guide, 'text/markdown'))).chunks.length).toBeGreaterThan(0);
    expect(workers.stats).toMatchObject({ spawned: 2, killed: 1 });
  });

  it('holds the real parser to its memory limit', async () => {
    const workers = pool({ memoryMb: 32 });
    // ~64 MB of text once decoded: more than a 32 MiB heap can hold, whatever the parser does with it.
    const huge = new Uint8Array(Buffer.alloc(64 * 1024 * 1024, 'Great Wall of China. '));
    expect(await failure(workers.prepare(input(huge, 'text/plain')))).toMatchObject({ code: 'too_large' });
    expect((await workers.prepare(input(guide, 'text/markdown'))).title).toBe('Beijing');
    // Building 64 MB and letting a worker run out of heap on it takes seconds on a busy 2-core machine.
  }, 30_000);

  it('treats a worker that dies for another reason as a transient failure, and replaces it', async () => {
    const workers = pool({ workerUrl: hostile });
    const crash = await failure(workers.prepare(input('bye', 'application/x-crash')));
    expect(crash).not.toBeInstanceOf(IngestError);
    expect(crash.message).toBe('the parse worker stopped (exit code 3)');
    expect((await workers.prepare(input(guide, 'text/markdown'))).keywords).toContain('beijing');
    expect(workers.stats).toMatchObject({ spawned: 2, killed: 0 });
  });

  it('runs at most `size` documents at once; the others wait in line and are prepared in turn', async () => {
    const workers = pool({ size: 2 });
    const results = await Promise.all(['one', 'two', 'three', 'four', 'five'].map((word) => workers.prepare(input(`${word} ${guide}`, 'text/plain'))));
    expect(results.map((r) => r.chunks[0]!.split(' ')[0])).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(workers.stats).toMatchObject({ spawned: 2, running: 0, queued: 0 });
  });

  it('fails running and waiting documents when closed, and refuses new ones', async () => {
    const workers = pool({ workerUrl: hostile });
    const running = failure(workers.prepare(input('never ends', 'application/x-spin')));
    const waiting = failure(workers.prepare(input(guide, 'text/markdown')));
    await workers.close();
    expect((await running).message).toBe('the parse worker pool is closed');
    expect((await waiting).message).toBe('the parse worker pool is closed');
    expect((await failure(workers.prepare(input(guide, 'text/markdown')))).message).toBe('the parse worker pool is closed');
  });
});
