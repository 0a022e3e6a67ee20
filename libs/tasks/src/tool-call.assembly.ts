import type { TaskEvent } from './task.schema.ts';

/** A tool call as a task keeps it (`Task.toolCalls`): `arguments` is the model's JSON text. */
export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A fragment of a call as the task stream carries it (OpenAI's streaming form). */
export type ToolCallFragmentEvent = Omit<Extract<TaskEvent, { type: 'tool_call' }>, 'type'>;

/**
 * The tool calls of one run, put together from their fragments as OpenAI streams them: by index,
 * the id and name from the fragment that carries them, the arguments text appended in order.
 * The one assembly of the worker (the task's result), the answer relay and the task stream.
 */
export class ToolCallAssembly {
  private byIndex = new Map<number, AssembledToolCall>();

  /** Adds a fragment; the call as it stands now. */
  add({ index, id, name, arguments: text }: ToolCallFragmentEvent): AssembledToolCall {
    const call = this.byIndex.get(index) ?? { id: '', name: '', arguments: '' };
    const next = { id: id ?? call.id, name: name ?? call.name, arguments: call.arguments + text };
    this.byIndex.set(index, next);
    return next;
  }

  /** Starts over (another run replaces this one's output). */
  reset(): void {
    this.byIndex = new Map();
  }

  /** The calls, in index order. */
  calls(): AssembledToolCall[] {
    return [...this.byIndex.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  }
}
