import { EmbeddingBatcher } from './embedding.batcher.ts';

/** An embedder whose calls wait until the test lets them finish; a text starting with "bad" fails its call. */
class GatedEmbedder {
  readonly calls: { texts: string[]; done: boolean; finish: () => void }[] = [];

  get running(): number {
    return this.calls.filter((call) => !call.done).length;
  }

  embedDocuments(texts: string[]): Promise<number[][]> {
    return new Promise<number[][]>((resolve, reject) => {
      const call = {
        texts,
        done: false as boolean,
        finish: () => {
          call.done = true;
          const bad = texts.find((text) => text.startsWith('bad'));
          if (bad) reject(new Error(`cannot embed ${bad}`));
          else resolve(texts.map(vectorOf));
        },
      };
      this.calls.push(call);
    });
  }

  /** Lets every call made so far finish, then gives the batcher a turn to send the next ones. */
  async finishAll(): Promise<void> {
    for (const call of this.calls) if (!call.done) call.finish();
    await settle();
  }
}

const vectorOf = (text: string) => [text.length, text.charCodeAt(0)];
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const texts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function drain(embedder: GatedEmbedder, ...promises: Promise<unknown>[]) {
  const outcomes = Promise.allSettled(promises);
  let pending = true;
  void outcomes.then(() => (pending = false));
  for (let turns = 0; pending && turns < 100; turns++) await embedder.finishAll();
  return outcomes;
}

describe('EmbeddingBatcher', () => {
  it('fills a call with the texts of documents that arrive while the embedder is busy', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 8, concurrency: 1 });
    const first = batcher.embed(texts('a', 3));
    await settle();
    expect(embedder.calls.map((call) => call.texts)).toEqual([texts('a', 3)]);
    // Three small documents arrive while the first call runs: they wait, and go out together.
    const others = [batcher.embed(texts('b', 2)), batcher.embed(texts('c', 4)), batcher.embed(texts('d', 3))];
    await settle();
    expect(embedder.calls).toHaveLength(1);
    await drain(embedder, first, ...others);
    expect(embedder.calls.map((call) => call.texts)).toEqual([texts('a', 3), [...texts('b', 2), ...texts('c', 4), 'd0', 'd1'], ['d2']]);
    expect(await Promise.all([first, ...others])).toEqual([texts('a', 3), texts('b', 2), texts('c', 4), texts('d', 3)].map((list) => list.map(vectorOf)));
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 2, concurrency: 3 });
    const result = batcher.embed(texts('a', 11));
    await settle();
    expect(embedder.running).toBe(3);
    let most = 0;
    const done = drain(embedder, result);
    for (let i = 0; i < 10; i++) {
      most = Math.max(most, embedder.running);
      await settle();
    }
    await done;
    expect(most).toBeLessThanOrEqual(3);
    expect(embedder.calls.map((call) => call.texts.length)).toEqual([2, 2, 2, 2, 2, 1]);
    expect(await result).toEqual(texts('a', 11).map(vectorOf));
  });

  it('embeds a text that several documents share once per call, and gives each its vector', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 8 });
    const blocker = batcher.embed(['x']);
    await settle();
    const one = batcher.embed(['shared', 'only in one']);
    const two = batcher.embed(['shared', 'shared', 'only in two']);
    await drain(embedder, blocker, one, two);
    expect(embedder.calls[1]!.texts).toEqual(['shared', 'only in one', 'only in two']);
    expect(await one).toEqual([vectorOf('shared'), vectorOf('only in one')]);
    expect(await two).toEqual([vectorOf('shared'), vectorOf('shared'), vectorOf('only in two')]);
  });

  it('serves documents in turn, a call at a time: a long document does not hold up a short one behind it', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 4 });
    const blocker = batcher.embed(['x']);
    await settle();
    const long = batcher.embed(texts('long', 12));
    const short = batcher.embed(texts('short', 2));
    await drain(embedder, blocker, long, short);
    expect(embedder.calls.slice(1).map((call) => call.texts)).toEqual([texts('long', 4), ['short0', 'short1', 'long4', 'long5'], ['long6', 'long7', 'long8', 'long9'], ['long10', 'long11']]);
    expect(await long).toEqual(texts('long', 12).map(vectorOf));
  });

  it('reports progress with the indices each call completed', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 3 });
    const seen: number[][] = [];
    await drain(embedder, batcher.embed(texts('a', 7), (indices) => seen.push([...indices])));
    expect(seen).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('fails a request whose progress callback throws, and only that one', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 8 });
    const blocker = batcher.embed(['x']);
    await settle();
    const broken = batcher.embed(['a', 'b'], () => {
      throw new Error('listener broke');
    });
    const fine = batcher.embed(['c']);
    const [, brokenOutcome, fineOutcome] = await drain(embedder, blocker, broken, fine);
    expect(brokenOutcome).toMatchObject({ status: 'rejected', reason: { message: 'listener broke' } });
    expect(fineOutcome).toEqual({ status: 'fulfilled', value: [vectorOf('c')] });
  });

  it('gives each document of a failed shared call its own outcome: only the one with the bad text fails', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 8 });
    const blocker = batcher.embed(['x']);
    await settle();
    const good = batcher.embed(['fine 1', 'fine 2']);
    const bad = batcher.embed(['ok', 'bad apple', 'never sent']);
    const alsoGood = batcher.embed(['fine 3']);
    const [, goodOutcome, badOutcome, alsoGoodOutcome] = await drain(embedder, blocker, good, bad, alsoGood);
    expect(goodOutcome).toEqual({ status: 'fulfilled', value: [vectorOf('fine 1'), vectorOf('fine 2')] });
    expect(alsoGoodOutcome).toEqual({ status: 'fulfilled', value: [vectorOf('fine 3')] });
    expect(badOutcome).toMatchObject({ status: 'rejected', reason: { message: 'cannot embed bad apple' } });
    // The shared call, then each document's part alone.
    expect(embedder.calls.slice(1).map((call) => call.texts)).toEqual([
      ['fine 1', 'fine 2', 'ok', 'bad apple', 'never sent', 'fine 3'],
      ['fine 1', 'fine 2'],
      ['ok', 'bad apple', 'never sent'],
      ['fine 3'],
    ]);
  });

  it('fails a document at its first failed call of its own, and sends none of its remaining texts', async () => {
    const embedder = new GatedEmbedder();
    const batcher = new EmbeddingBatcher({ embeddings: embedder, batchSize: 2 });
    const result = batcher.embed(['a', 'bad b', 'c', 'd', 'e']);
    const [outcome] = await drain(embedder, result);
    expect(outcome).toMatchObject({ status: 'rejected', reason: { message: 'cannot embed bad b' } });
    expect(embedder.calls.map((call) => call.texts)).toEqual([['a', 'bad b']]);
    // The batcher goes on serving others.
    const next = batcher.embed(['f']);
    await drain(embedder, next);
    expect(await next).toEqual([vectorOf('f')]);
  });

  it('fails the call when the embedder returns a vector count that does not match, and needs no call for nothing', async () => {
    const embedder = {
      calls: 0,
      embedDocuments: async (list: string[]) => {
        embedder.calls += 1;
        return list.slice(1).map(vectorOf);
      },
    };
    const batcher = new EmbeddingBatcher({ embeddings: embedder });
    await expect(batcher.embed(['a', 'b'])).rejects.toThrow('the embedder returned 1 vectors for 2 texts');
    expect(await batcher.embed([])).toEqual([]);
    expect(embedder.calls).toBe(1);
  });

  it('refuses impossible settings', () => {
    const embeddings = new GatedEmbedder();
    expect(() => new EmbeddingBatcher({ embeddings, batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new EmbeddingBatcher({ embeddings, concurrency: 1.5 })).toThrow(/concurrency must be a positive integer/);
  });
});
