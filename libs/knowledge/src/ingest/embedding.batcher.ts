/** The part of a LangChain `Embeddings` the pipeline uses. */
export interface DocumentEmbedder {
  embedDocuments(texts: string[]): Promise<number[][]>;
}

export interface EmbeddingBatcherOptions {
  readonly embeddings: DocumentEmbedder;
  /** Texts per embedding call at most (default 32). */
  readonly batchSize?: number;
  /** Embedding calls in flight at once (default 1): the embedder's parallelism (`EmbeddingModel.parallelism`). */
  readonly concurrency?: number;
}

/** Called as texts of one request get their vectors: the indices (into the request's texts) just done. If it throws, the request fails with that error. */
export type EmbedProgress = (indices: readonly number[]) => void;

interface Request {
  readonly texts: readonly string[];
  readonly vectors: number[][];
  /** Index ranges [from, to) not yet handed to the embedder, in order. */
  readonly pending: [number, number][];
  readonly onProgress: EmbedProgress | undefined;
  readonly resolve: (vectors: number[][]) => void;
  readonly reject: (error: Error) => void;
  done: number;
  settled: boolean;
  /** After a call shared with other requests failed: this request's texts go in calls of their own. */
  alone: boolean;
}

interface Part {
  readonly request: Request;
  readonly from: number;
  readonly to: number;
}

/**
 * Puts the texts of concurrent requests (the documents being ingested at once) into shared
 * embedding calls of up to `batchSize` texts, with up to `concurrency` calls in flight: while the
 * embedder is busy, texts that arrive wait and fill the next call, so small documents make full
 * batches, and an embedder with several sessions gets work for each of them. A text that appears
 * more than once in a call is embedded once.
 *
 * What must stay true: every request settles exactly once, with its vectors in input order or
 * with an error of its own. A call that fails with texts of one request fails that request; a
 * call shared by several requests is tried again for each of them alone, so one document's bad
 * text (or an embedder that rejects a batch for one input) never fails another document. Requests
 * are served round-robin a call at a time: a long document does not hold up a short one behind it.
 */
export class EmbeddingBatcher implements DocumentEmbedder {
  private readonly embeddings: DocumentEmbedder;
  private readonly batchSize: number;
  private readonly concurrency: number;
  /** Requests with texts not yet handed to the embedder, in turn order. */
  private readonly waiting: Request[] = [];
  private running = 0;

  constructor(options: EmbeddingBatcherOptions) {
    const batchSize = options.batchSize ?? 32;
    const concurrency = options.concurrency ?? 1;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.embeddings = options.embeddings;
    this.batchSize = batchSize;
    this.concurrency = concurrency;
  }

  /** Vectors of `texts`, in input order; `onProgress` hears of each part as it is done. */
  embed(texts: readonly string[], onProgress?: EmbedProgress): Promise<number[][]> {
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise<number[][]>((resolve, reject) => {
      this.waiting.push({ texts, vectors: new Array<number[]>(texts.length), pending: [[0, texts.length]], onProgress, resolve, reject, done: 0, settled: false, alone: false });
      this.pump();
    });
  }

  embedDocuments(texts: string[]): Promise<number[][]> {
    return this.embed(texts);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const parts = this.nextCall();
      if (parts.length === 0) return;
      this.running += 1;
      void this.call(parts).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  /** Takes the next call's texts: from the requests in turn, until the call is full (a request on its own takes a call alone). */
  private nextCall(): Part[] {
    const parts: Part[] = [];
    let size = 0;
    for (let i = 0; i < this.waiting.length && size < this.batchSize; ) {
      const request = this.waiting[i]!;
      if (request.alone && parts.length > 0) {
        i += 1;
        continue;
      }
      const range = request.pending[0]!;
      const take = Math.min(this.batchSize - size, range[1] - range[0]);
      parts.push({ request, from: range[0], to: range[0] + take });
      size += take;
      range[0] += take;
      if (range[0] === range[1]) request.pending.shift();
      if (request.pending.length === 0) this.waiting.splice(i, 1);
      else if (size >= this.batchSize || request.alone) {
        // Its turn is used: the others go before its next part.
        this.waiting.splice(i, 1);
        this.waiting.push(request);
        break;
      } else i += 1;
      if (request.alone) break;
    }
    return parts;
  }

  private async call(parts: Part[]): Promise<void> {
    // One slot per distinct text: the same chunk in two documents (or twice in one) is embedded once.
    const slots = new Map<string, number>();
    const texts: string[] = [];
    const slotOf = parts.map((part) =>
      part.request.texts.slice(part.from, part.to).map((text) => {
        let slot = slots.get(text);
        if (slot === undefined) {
          slot = texts.push(text) - 1;
          slots.set(text, slot);
        }
        return slot;
      }),
    );
    let vectors: number[][];
    try {
      vectors = await this.embeddings.embedDocuments(texts);
      if (!Array.isArray(vectors) || vectors.length !== texts.length) throw new Error(`the embedder returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${texts.length} texts`);
    } catch (error) {
      this.failed(parts, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    parts.forEach((part, p) => {
      const { request } = part;
      if (request.settled) return;
      const indices: number[] = [];
      slotOf[p]!.forEach((slot, k) => {
        request.vectors[part.from + k] = vectors[slot]!;
        indices.push(part.from + k);
      });
      request.done += indices.length;
      try {
        request.onProgress?.(indices);
      } catch (error) {
        return this.settle(request, error instanceof Error ? error : new Error(String(error)));
      }
      if (request.done === request.texts.length) this.settle(request);
    });
  }

  /** A failed call: with one request's texts, that request fails; shared, each request's part is tried again in a call of its own. */
  private failed(parts: Part[], error: Error): void {
    const inCall = new Set(parts.map((part) => part.request));
    const requests = [...inCall].filter((request) => !request.settled);
    if (inCall.size === 1) {
      for (const request of requests) this.settle(request, error);
      return;
    }
    // A call holds at most one part of each request; each goes back to the front of its request's texts.
    for (const part of parts) if (!part.request.settled) part.request.pending.unshift([part.from, part.to]);
    // Tried again first, each alone, in the order they were in the call.
    for (const request of requests.reverse()) {
      request.alone = true;
      const at = this.waiting.indexOf(request);
      if (at >= 0) this.waiting.splice(at, 1);
      this.waiting.unshift(request);
    }
  }

  private settle(request: Request, error?: Error): void {
    if (request.settled) return;
    request.settled = true;
    const at = this.waiting.indexOf(request);
    if (at >= 0) this.waiting.splice(at, 1);
    if (error) request.reject(error);
    else request.resolve(request.vectors);
  }
}
