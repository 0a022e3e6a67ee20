import { fileURLToPath } from 'node:url';
import { Piscina, queueOptionsSymbol, type PiscinaTask, type TaskQueue } from 'piscina';

/*
 * onnxruntime-node runs a model synchronously on the thread that calls `session.run` (its async
 * `run` only defers the call with setImmediate): in the main thread a batch blocks the event loop,
 * and two calls never overlap. Here each ONNX session lives in a worker thread of its own, in a
 * Piscina pool (ADR 0026): up to `size` model runs go on at once, on as many cores, while the main
 * thread keeps serving I/O. The worker script (`embedding-session.worker`) holds an in-process
 * `MiniLmEmbeddings`.
 */

/** What a session's handler is given: one `embedDocuments` call. */
export interface SessionCall {
  readonly texts: readonly string[];
}

export interface EmbeddingSessionsOptions {
  /** Sessions (worker threads): model runs at once. */
  readonly size: number;
  /** Passed to every worker as `workerData` (the worker's embedder options). */
  readonly workerData: unknown;
  /** The worker script; default `embedding-session.worker` beside this module (tests pass their own). */
  readonly workerUrl?: URL;
  /** Told of a session that failed with no call running (it is replaced). */
  readonly onSessionError?: (error: Error) => void;
}

interface QueueOptions {
  readonly first: boolean;
}

const isFirst = (task: PiscinaTask) => (task[queueOptionsSymbol] as QueueOptions | null)?.first === true;

/** Piscina's waiting calls, first come first served, except that calls marked `first` (queries) go before the others. */
class QueriesFirst implements TaskQueue {
  private readonly tasks: PiscinaTask[] = [];

  get size(): number {
    return this.tasks.length;
  }

  push(task: PiscinaTask): void {
    const behind = isFirst(task) ? this.tasks.findIndex((waiting) => !isFirst(waiting)) : -1;
    if (behind >= 0) this.tasks.splice(behind, 0, task);
    else this.tasks.push(task);
  }

  /** A call Piscina took but could not place yet goes back to the head (with `stricterFIFO`). */
  unshift(task: PiscinaTask): void {
    this.tasks.unshift(task);
  }

  shift(): PiscinaTask | null {
    return this.tasks.shift() ?? null;
  }

  remove(task: PiscinaTask): void {
    const index = this.tasks.indexOf(task);
    if (index >= 0) this.tasks.splice(index, 1);
  }
}

/** The worker script beside this module, in the form this module runs in (TypeScript sources or built JavaScript). */
const defaultWorkerUrl = () => new URL(`./embedding-session.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Embedding calls on `size` sessions in worker threads: a call runs whole on one session (its
 * batches in order), so concurrent calls run in parallel and one call never holds two sessions.
 * What must stay true: every call settles once; a session that cannot load the model fails the
 * calls it takes with the reason (and loads again on the next); a session that dies fails its
 * running call and is replaced.
 */
export class EmbeddingSessions {
  private readonly pool: Piscina;
  private closed = false;
  readonly size: number;

  constructor(options: EmbeddingSessionsOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new RangeError(`size must be a positive integer, got ${options.size}`);
    this.size = options.size;
    const workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.pool = new Piscina({
      filename: fileURLToPath(workerUrl),
      minThreads: options.size,
      maxThreads: options.size,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: options.workerData,
      taskQueue: new QueriesFirst(),
      // A call that finds no free session goes back where it was, not to the tail.
      stricterFIFO: true,
      // A session waits for its next call on its event loop, not in Atomics.wait.
      atomics: 'disabled',
      // TypeScript sources (tests, `--conditions=@aip/source`) need the type transform; built
      // JavaScript needs no flag. None is inherited (Jest's --experimental-vm-modules has no business in a worker).
      execArgv: workerUrl.pathname.endsWith('.ts') ? ['--experimental-transform-types', '--no-warnings'] : [],
    });
    // Without a listener an error event would end the process; the session is replaced either way.
    this.pool.on('error', (error: Error) => options.onSessionError?.(error));
  }

  /** Has every session load the model; rejects with the reason one could not. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.run([])));
  }

  /**
   * Embeds `texts` on the next free session; vectors in input order. `first`: the call goes
   * before the waiting calls that are not `first` themselves (a query should not wait behind bulk work).
   */
  async run(texts: readonly string[], options: { first?: boolean } = {}): Promise<number[][]> {
    if (this.closed) throw new Error('the embedding sessions are closed');
    const call: SessionCall & { [key: symbol]: QueueOptions } = { texts, [queueOptionsSymbol]: { first: options.first === true } };
    return (await this.pool.run(call)) as number[][];
  }

  /** Ends every session; running and waiting calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}
