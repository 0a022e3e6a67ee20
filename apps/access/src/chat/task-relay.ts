import type { StoredEvent, TaskEventHub } from '@aip/tasks';

const TERMINAL = new Set(['done', 'error']);

/**
 * Follows a task's event stream from `afterId` until its terminal event, through the shared hub
 * (one blocking Redis read for all clients). Ends early when `signal` aborts (client gone) or
 * `timeoutMs` passes.
 */
export async function* followTask(hub: TaskEventHub, taskId: string, options: { afterId?: string; timeoutMs: number; signal?: AbortSignal }): AsyncGenerator<StoredEvent> {
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
  for await (const stored of hub.follow(taskId, options.afterId ?? '0', signal)) {
    yield stored;
    if (isFinalEvent(stored)) return;
  }
}

/** Whether nothing follows this event in its task's stream. */
export function isFinalEvent({ event }: StoredEvent): boolean {
  return TERMINAL.has(event.type) || (event.type === 'status' && event.status === 'cancelled');
}

/**
 * Turns task events into the answer a client should see. After a `restart` (the worker died and
 * another one started over) a streaming client is not sent again the characters it already has;
 * the final answer is always the text of the run that finished.
 */
export class AnswerText {
  private emitted = 0;
  private run = '';

  /** The part of this delta the client has not seen yet. */
  delta(text: string): string {
    this.run += text;
    if (this.run.length <= this.emitted) return '';
    const fresh = this.run.slice(this.emitted);
    this.emitted = this.run.length;
    return fresh;
  }

  restart(): void {
    this.run = '';
  }

  get text(): string {
    return this.run;
  }
}
