import { ToolCallAssembly, type StoredEvent, type TaskEvent, type TaskEventHub } from '@aip/tasks';

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

type ToolCallEvent = Extract<TaskEvent, { type: 'tool_call' }>;

/** One entry of an OpenAI chunk's `delta.tool_calls`. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

/**
 * Turns tool-call events into what a client should see, like AnswerText does for text: the calls
 * of the run that finished, and for a streaming client only the fragments it has not seen yet
 * (after a `restart`, the new run's fragments up to what was already sent are not sent again).
 */
export class AnswerToolCalls {
  private readonly run = new ToolCallAssembly();
  private readonly sent = new Map<number, { head: boolean; arguments: number }>();

  /** The part of this fragment the client has not seen yet, in OpenAI's `delta.tool_calls[]` form. */
  fragment(fragment: ToolCallEvent): ToolCallDelta | undefined {
    const { index } = fragment;
    const next = this.run.add(fragment);
    const sent = this.sent.get(index) ?? { head: false, arguments: 0 };
    const fresh = next.arguments.slice(sent.arguments);
    const head = !sent.head && next.id !== '' && next.name !== '';
    if (!head && fresh === '') return undefined;
    this.sent.set(index, { head: sent.head || head, arguments: next.arguments.length });
    return head ? { index, id: next.id, type: 'function', function: { name: next.name, arguments: fresh } } : { index, function: { arguments: fresh } };
  }

  restart(): void {
    this.run.reset();
  }

  /** Whether the client has been sent part of a call already. */
  get started(): boolean {
    return this.sent.size > 0;
  }

  /** The calls of the finished run, in OpenAI's `message.tool_calls` form. */
  get calls(): { id: string; type: 'function'; function: { name: string; arguments: string } }[] {
    return this.run.calls().map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
}
