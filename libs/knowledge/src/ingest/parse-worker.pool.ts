import { Worker } from 'node:worker_threads';
import type { PrepareInput, PreparedDocument } from './document.preparer.ts';
import { IngestError } from './ingest.errors.ts';
import type { ParseJob, ParseOutcome, ParseWorkerMessage } from './parse-worker.protocol.ts';

export interface ParseWorkerPoolOptions {
  /** Worker threads at most: documents parsed at once (more wait in line). */
  readonly size: number;
  /** A document still being parsed after this long fails `parse_timeout`; its worker is terminated. */
  readonly timeoutMs: number;
  /** JS heap (V8 old generation) of each worker, in MiB: a document that needs more fails `too_large`. */
  readonly memoryMb: number;
  /** The worker script; default `parse.worker` beside this module (tests pass their own). */
  readonly workerUrl?: URL;
}

export interface ParseWorkerPoolStats {
  /** Workers started so far (a killed worker is replaced by a new one when the next job comes). */
  readonly spawned: number;
  /** Workers terminated for a time limit or lost to their memory limit. */
  readonly killed: number;
  readonly running: number;
  readonly queued: number;
}

interface Job {
  readonly input: PrepareInput;
  readonly resolve: (result: PreparedDocument) => void;
  readonly reject: (error: Error) => void;
}

interface Assignment {
  readonly id: number;
  readonly job: Job;
  /** The job's time limit; set once the worker is ready (a worker's start-up is not the document's fault). */
  timer?: NodeJS.Timeout;
}

interface WorkerState {
  ready: boolean;
  /** Until the worker is ready: it must be within STARTUP_TIMEOUT_MS. */
  startup?: NodeJS.Timeout;
  assignment?: Assignment;
}

/** A worker that has not loaded its modules after this long is broken (not the document): the job fails transiently. */
const STARTUP_TIMEOUT_MS = 60_000;

/** The worker script beside this module, in the form this module runs in (TypeScript sources or built JavaScript). */
const defaultWorkerUrl = () => new URL(`./parse.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Parses and chunks documents (`prepareDocument`) in worker threads, so that the service's event
 * loop — leases, health checks, HTTP — keeps running whatever a document does to the parser.
 *
 * What must stay true: every job settles exactly once. A job that outlives `timeoutMs` (counted
 * from when its worker is ready, so a worker's start-up is not charged to the document) fails
 * `parse_timeout` and its worker is terminated (a parser stuck in a loop cannot be interrupted any
 * other way); a worker that runs out of its `memoryMb` heap is ended by V8 and the job fails
 * `too_large`. Both are poison: the same bytes would fail the same way. A dead worker is not
 * reused: the next job starts a fresh one. Any other loss of a worker (it could not start, it
 * crashed) fails the job with a plain `Error`, which the caller treats as transient.
 * Memory outside the JS heap (the document's own bytes, pdf.js buffers) is not bounded by
 * `memoryMb`: `MAX_UPLOAD_BYTES` and the PDF page limit bound that.
 */
export class ParseWorkerPool {
  private readonly workers = new Map<Worker, WorkerState>();
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly workerUrl: URL;
  private readonly execArgv: string[];
  private nextId = 0;
  private spawned = 0;
  private killed = 0;
  private closed = false;

  constructor(private readonly options: ParseWorkerPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new RangeError(`size must be a positive integer, got ${options.size}`);
    if (!(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    if (!(options.memoryMb >= 16)) throw new RangeError(`memoryMb must be at least 16, got ${options.memoryMb}`);
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    // TypeScript sources (tests, `--conditions=@aip/source`) need the full transform: the ingest
    // modules use parameter properties. Built JavaScript needs no flag; none is inherited (Jest's
    // --experimental-vm-modules has no business in a worker).
    this.execArgv = this.workerUrl.pathname.endsWith('.ts') ? ['--experimental-transform-types', '--no-warnings'] : [];
  }

  get stats(): ParseWorkerPoolStats {
    let running = 0;
    for (const state of this.workers.values()) if (state.assignment) running += 1;
    return { spawned: this.spawned, killed: this.killed, running, queued: this.queue.length };
  }

  /** A `DocumentPreparer` (pass it as `IngestPipelineOptions.prepare`). */
  readonly prepare = (input: PrepareInput): Promise<PreparedDocument> =>
    new Promise<PreparedDocument>((resolve, reject) => {
      if (this.closed) return reject(new Error('the parse worker pool is closed'));
      this.queue.push({ input, resolve, reject });
      this.pump();
    });

  /** Terminates every worker; running and waiting jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the parse worker pool is closed'));
    const workers = [...this.workers.keys()];
    for (const worker of workers) this.retire(worker, new Error('the parse worker pool is closed'));
    await Promise.all(workers.map((worker) => worker.terminate().catch(() => undefined)));
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers.size < this.options.size ? this.spawn() : undefined);
      if (!worker) return;
      this.assign(worker, this.queue.shift()!);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(this.workerUrl, {
      execArgv: this.execArgv,
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
    });
    this.spawned += 1;
    const state: WorkerState = { ready: false };
    state.startup = setTimeout(() => {
      this.retire(worker, new Error(`the parse worker did not start within ${STARTUP_TIMEOUT_MS} ms`));
      void worker.terminate().catch(() => undefined);
    }, STARTUP_TIMEOUT_MS);
    state.startup.unref();
    this.workers.set(worker, state);
    worker.on('message', (message: ParseWorkerMessage) => (message.type === 'ready' ? this.ready(worker) : this.answered(worker, message)));
    worker.on('error', (error: Error & { code?: string }) => {
      const failure =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new IngestError('too_large', `parsing the document needs more than the parser's memory limit of ${this.options.memoryMb} MiB`)
          : new Error(`the parse worker failed: ${error.message}`, { cause: error });
      if (failure instanceof IngestError) this.killed += 1;
      this.retire(worker, failure);
    });
    worker.on('exit', (code) => this.retire(worker, new Error(`the parse worker stopped (exit code ${code})`)));
    return worker;
  }

  private assign(worker: Worker, job: Job): void {
    const state = this.workers.get(worker)!;
    state.assignment = { id: ++this.nextId, job };
    // A busy worker keeps the process alive (its job is awaited); an idle one must not.
    worker.ref();
    worker.postMessage({ id: state.assignment.id, input: job.input } satisfies ParseJob);
    if (state.ready) this.startClock(worker, state.assignment);
  }

  private ready(worker: Worker): void {
    const state = this.workers.get(worker);
    if (!state) return;
    clearTimeout(state.startup);
    state.ready = true;
    if (state.assignment) this.startClock(worker, state.assignment);
  }

  /** The job's time limit runs from now: past it, the worker is terminated (nothing else stops a parser stuck in a loop). */
  private startClock(worker: Worker, assignment: Assignment): void {
    assignment.timer = setTimeout(() => {
      this.killed += 1;
      this.retire(worker, new IngestError('parse_timeout', `parsing the document took longer than ${this.options.timeoutMs} ms`));
      void worker.terminate().catch(() => undefined);
    }, this.options.timeoutMs);
  }

  private answered(worker: Worker, outcome: ParseOutcome): void {
    const state = this.workers.get(worker);
    const assignment = state?.assignment;
    if (!state || !assignment || assignment.id !== outcome.id) return;
    clearTimeout(assignment.timer);
    state.assignment = undefined;
    worker.unref();
    this.idle.push(worker);
    if (outcome.ok) assignment.job.resolve(outcome.result);
    else assignment.job.reject(outcome.error.code ? new IngestError(outcome.error.code, outcome.error.message) : new Error(outcome.error.message));
    this.pump();
  }

  /** The worker is dead or being killed: its job (if any) fails with `error`, and it is never used again. */
  private retire(worker: Worker, error: Error): void {
    const state = this.workers.get(worker);
    if (!state) return;
    this.workers.delete(worker);
    clearTimeout(state.startup);
    const idle = this.idle.indexOf(worker);
    if (idle >= 0) this.idle.splice(idle, 1);
    if (state.assignment) {
      clearTimeout(state.assignment.timer);
      state.assignment.job.reject(error);
    }
    this.pump();
  }
}
