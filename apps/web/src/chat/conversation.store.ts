// The conversation: the user's messages, answers streamed delta by delta with their sources, and
// proactive prompts in line (so the conversation reads in order). An answer cut off by a lost
// connection is fetched from access's task API once the connection is back (chat answers are not
// resumable over the socket).
import type { PushFrame } from '@aip/contracts';
import type { ChatEvent } from '../realtime/realtime.client.ts';
import { sleep, Store } from '../support/store.ts';

export interface Source {
  docId: string;
  version?: string;
  position?: number;
  title?: string;
}

export interface SourceView {
  label: string;
  title: string;
}

export type AnswerStatus = 'streaming' | 'done' | 'failed' | 'interrupted';

export type Entry =
  | { kind: 'user'; key: string; text: string }
  | { kind: 'proactive'; key: string; pushId: string; label: string; text: string }
  | { kind: 'answer'; key: string; ref: string; text: string; meta: string; status: AnswerStatus; taskId?: string; sources?: SourceView[]; done: boolean };

type Answer = Extract<Entry, { kind: 'answer' }>;

/** What access's task API says of a task (GET /v1/tasks/:id), as far as the page reads it. */
export interface TaskView {
  status: string;
  result?: string;
  model?: string;
  finishReason?: string;
  usage?: { totalTokens: number };
  sources?: Source[];
  error?: { message?: string };
}

export interface ConversationHelpers {
  /** The name of a document this page uploaded itself, to cite it by name. */
  nameOf: (docId: string) => string | undefined;
  fetchTask: (taskId: string) => Promise<TaskView>;
  /** Waits between task polls (tests make it instant). */
  wait?: (ms: number) => Promise<void>;
}

/** A short label for a cited passage; names of documents the page uploaded itself replace ids. */
export function sourceLabel(source: Source, nameOf: (docId: string) => string | undefined): string {
  const name = source.title ?? nameOf(source.docId) ?? source.docId;
  return source.position !== undefined ? `${name} §${source.position + 1}` : name;
}

/** The label of a push: the intent of a proactive prompt, the title of a notice. */
export const pushLabel = (push: Pick<PushFrame, 'kind' | 'intent' | 'title'>) =>
  push.kind === 'proactive' ? (push.intent ?? 'suggestion') : (push.title ?? 'notice');

export class Conversation extends Store<readonly Entry[]> {
  private counter = 0;

  constructor(private readonly helpers: ConversationHelpers) {
    super([]);
  }

  /** Shows another, stored conversation in place of this one: its messages, and its answers as done. */
  show(messages: readonly { role: 'user' | 'assistant'; text: string }[]): void {
    this.set(
      messages.map((message): Entry => {
        const key = this.nextKey();
        return message.role === 'user' ? { kind: 'user', key, text: message.text } : { kind: 'answer', key, ref: `stored-${key}`, text: message.text, meta: '', status: 'done', done: true };
      }),
    );
  }

  addUser(text: string): void {
    this.append({ kind: 'user', key: this.nextKey(), text });
  }

  startAnswer(ref: string): void {
    this.append({ kind: 'answer', key: this.nextKey(), ref, text: '', meta: 'waiting for an answer…', status: 'streaming', done: false });
  }

  /** A proactive prompt, in line with the conversation (the side panel keeps the list). */
  addProactive(push: Pick<PushFrame, 'id' | 'kind' | 'intent' | 'title' | 'text'>): void {
    this.append({ kind: 'proactive', key: this.nextKey(), pushId: push.id, label: pushLabel(push), text: push.text });
  }

  /** A frame of one chat (accepted, delta, sources, done, error); frames of finished answers are ignored. */
  onFrame(frame: ChatEvent): void {
    const answer = this.answer(frame.ref);
    if (!answer || answer.done) return;
    switch (frame.type) {
      case 'accepted':
        return this.update(frame.ref, { taskId: frame.taskId, meta: 'thinking…' });
      case 'delta':
        return this.update(frame.ref, { text: (frame.reset ? '' : answer.text) + frame.text, meta: '' });
      case 'sources':
        return this.update(frame.ref, { sources: this.sourceViews(frame.sources) });
      case 'done':
        return this.update(frame.ref, {
          done: true,
          status: 'done',
          meta: `${frame.model} · ${frame.usage.totalTokens} tokens${frame.finishReason === 'length' ? ' · cut at the length limit' : ''}`,
        });
      case 'error':
        return this.fail(frame.ref, `${frame.message}${frame.retryAfterMs ? ` — try again in ${Math.ceil(frame.retryAfterMs / 1000)} s` : ''}`);
    }
  }

  fail(ref: string, message: string): void {
    const answer = this.answer(ref);
    if (!answer || answer.done) return;
    this.update(ref, { done: true, status: 'failed', meta: message });
  }

  /** The socket went away: answers still streaming can no longer arrive on it. */
  interruptStreaming(): void {
    for (const answer of this.answers()) {
      if (answer.done || answer.status === 'interrupted') continue;
      this.update(answer.ref, {
        status: 'interrupted',
        meta: answer.taskId ? 'connection lost — the answer will be fetched when the connection is back' : 'connection lost before the message was accepted',
        // Without a task id there is nothing to fetch the answer by.
        done: !answer.taskId,
      });
    }
  }

  /** Back online: fetch every interrupted answer from the task API. */
  async recoverInterrupted(): Promise<void> {
    const pending = this.answers().flatMap((answer) => (!answer.done && answer.status === 'interrupted' && answer.taskId ? [{ ref: answer.ref, taskId: answer.taskId }] : []));
    await Promise.all(pending.map(({ ref, taskId }) => this.recover(ref, taskId)));
  }

  private async recover(ref: string, taskId: string): Promise<void> {
    const wait = this.helpers.wait ?? sleep;
    this.update(ref, { meta: 'fetching the answer…' });
    for (let attempt = 0; attempt < 60 && !this.answer(ref)?.done; attempt++) {
      try {
        const task = await this.helpers.fetchTask(taskId);
        if (task.status === 'completed') {
          this.update(ref, { text: task.result ?? '', ...(task.sources?.length ? { sources: this.sourceViews(task.sources) } : {}) });
          return this.onFrame({
            type: 'done',
            ref,
            taskId,
            finishReason: task.finishReason === 'length' ? 'length' : 'stop',
            model: task.model ?? '',
            usage: { promptTokens: 0, completionTokens: 0, totalTokens: task.usage?.totalTokens ?? 0 },
          });
        }
        if (['failed', 'rejected', 'cancelled'].includes(task.status)) return this.fail(ref, task.error?.message ?? `the request was ${task.status}`);
      } catch (error) {
        if ((error as { status?: number }).status === 404) return this.fail(ref, 'the answer is no longer available');
      }
      await wait(Math.min(5_000, 250 * 2 ** attempt));
    }
  }

  private sourceViews(sources: readonly Source[]): SourceView[] {
    return sources.map((source, index) => ({
      label: `[${index + 1}] ${sourceLabel(source, this.helpers.nameOf)}`,
      title: `${source.docId}${source.version ? ` (version ${source.version})` : ''}`,
    }));
  }

  private answers(): Answer[] {
    return this.value.filter((entry): entry is Answer => entry.kind === 'answer');
  }

  private answer(ref: string): Answer | undefined {
    return this.answers().find((answer) => answer.ref === ref);
  }

  private update(ref: string, patch: Partial<Omit<Answer, 'kind' | 'key' | 'ref'>>): void {
    this.set(this.value.map((entry) => (entry.kind === 'answer' && entry.ref === ref ? { ...entry, ...patch } : entry)));
  }

  private append(entry: Entry): void {
    this.set([...this.value, entry]);
  }

  private nextKey(): string {
    return `e${++this.counter}`;
  }
}
