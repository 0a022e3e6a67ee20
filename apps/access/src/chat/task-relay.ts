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
    if (TERMINAL.has(stored.event.type) || (stored.event.type === 'status' && stored.event.status === 'cancelled')) return;
  }
}

/**
 * Turns task events into the answer text a client should see: after a `restart` (the worker died
 * and another one started over) text the client already has is not sent again.
 */
export class AnswerText {
  private sent = '';
  private rebuilt: string | undefined;

  /** The part of this delta the client has not seen yet. */
  delta(text: string): string {
    if (this.rebuilt === undefined) {
      this.sent += text;
      return text;
    }
    this.rebuilt += text;
    if (this.rebuilt.length <= this.sent.length) return '';
    const fresh = this.rebuilt.slice(this.sent.length);
    this.sent = this.rebuilt;
    this.rebuilt = undefined;
    return fresh;
  }

  restart(): void {
    this.rebuilt = '';
  }

  get text(): string {
    return this.rebuilt !== undefined && this.rebuilt.length > this.sent.length ? this.rebuilt : this.sent;
  }
}
