import type { MessagePort } from 'node:worker_threads';
import type { DocumentPreparer, PrepareInput, PreparedDocument } from './document.preparer.ts';
import { IngestError, type IngestFailureCode } from './ingest.errors.ts';

/** One document for a parse worker (a worker handles one at a time). */
export interface ParseJob {
  readonly id: number;
  readonly input: PrepareInput;
}

/** A worker's answer to a job: the prepared document, or why it failed (`code` for an `IngestError`). */
export type ParseOutcome =
  | { readonly type: 'done'; readonly id: number; readonly ok: true; readonly result: PreparedDocument }
  | { readonly type: 'done'; readonly id: number; readonly ok: false; readonly error: { readonly code?: IngestFailureCode; readonly message: string } };

/** What a worker posts: `ready` once (its modules are loaded: a job's time limit starts now), then outcomes. */
export type ParseWorkerMessage = { readonly type: 'ready' } | ParseOutcome;

/** The worker side: announces itself ready, then answers every job posted to `port` with `prepare`'s outcome. */
export function serveParseJobs(port: MessagePort, prepare: DocumentPreparer): void {
  port.on('message', (job: ParseJob) => {
    void prepare(job.input).then(
      (result) => port.postMessage({ type: 'done', id: job.id, ok: true, result } satisfies ParseOutcome),
      (error: unknown) => {
        const failure = error instanceof IngestError ? { code: error.code, message: error.message } : { message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
        port.postMessage({ type: 'done', id: job.id, ok: false, error: failure } satisfies ParseOutcome);
      },
    );
  });
  port.postMessage({ type: 'ready' } satisfies ParseWorkerMessage);
}
