// Steady load on access, the way clients send it: the official `openai` SDK (streaming and not)
// and the async task API, each request followed to its end. Every request lands in the ledger
// with what the client saw, so a scenario can say: accepted, completed with the full answer,
// failed with a clear error, or lost.
import OpenAI from 'openai';

export type Outcome =
  /** The whole expected answer arrived. */
  | 'completed'
  /** Refused or failed with a status and a structured error the client can act on (429, 503, 504, a failed task). */
  | 'clear_error'
  /** The connection to access broke (access itself was killed): the client retries. */
  | 'interrupted'
  /** An answer arrived but not the expected one, or an error without a usable status. */
  | 'wrong'
  /** Accepted and never finished within the deadline. */
  | 'lost';

export interface Entry {
  kind: 'stream' | 'completion' | 'task';
  startedAt: number;
  endedAt: number;
  accepted: boolean;
  outcome: Outcome;
  detail?: string;
}

export interface LoadOptions {
  /** Access base URL, read at each request (access may move to a restarted process). */
  base: () => string;
  key: string;
  model: string;
  expected: string;
  ratePerSecond: number;
  /** A request not finished after this long is lost. */
  deadlineMs: number;
}

export class Load {
  readonly entries: Entry[] = [];
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      const kinds = ['stream', 'task', 'completion'] as const;
      const kind = kinds[this.sent++ % kinds.length] ?? 'stream';
      const run = this.one(kind).finally(() => this.running.delete(run));
      this.running.add(run);
    }, 1_000 / this.options.ratePerSecond);
  }

  /** Stops sending and waits for every request in flight to end (each has its own deadline). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.running]);
  }

  private async one(kind: Entry['kind']): Promise<void> {
    const startedAt = Date.now();
    const record = (accepted: boolean, outcome: Outcome, detail?: string) =>
      this.entries.push({ kind, startedAt, endedAt: Date.now(), accepted, outcome, ...(detail ? { detail } : {}) });
    const deadline = AbortSignal.timeout(this.options.deadlineMs);
    try {
      if (kind === 'task') return await this.task(record, deadline);
      const client = new OpenAI({ apiKey: this.options.key, baseURL: `${this.options.base()}/v1`, maxRetries: 0, timeout: this.options.deadlineMs });
      const messages = [{ role: 'user' as const, content: `chaos ${startedAt}` }];
      if (kind === 'completion') {
        const completion = await client.chat.completions.create({ model: this.options.model, messages }, { signal: deadline });
        const text = completion.choices[0]?.message.content ?? '';
        return record(true, text === this.options.expected ? 'completed' : 'wrong', text === this.options.expected ? undefined : `answer ${JSON.stringify(text.slice(0, 80))}`);
      }
      const stream = await client.chat.completions.create({ model: this.options.model, messages, stream: true }, { signal: deadline });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      record(true, text === this.options.expected ? 'completed' : 'wrong', text === this.options.expected ? undefined : `stream ${JSON.stringify(text.slice(0, 80))}`);
    } catch (error) {
      if (deadline.aborted) return record(true, 'lost', 'no end before the deadline');
      record(...classify(error));
    }
  }

  private async task(record: (accepted: boolean, outcome: Outcome, detail?: string) => void, deadline: AbortSignal): Promise<void> {
    const headers = { authorization: `Bearer ${this.options.key}`, 'content-type': 'application/json' };
    const created = await fetch(`${this.options.base()}/v1/tasks`, { method: 'POST', headers, body: JSON.stringify({ model: this.options.model, messages: [{ role: 'user', content: 'chaos task' }] }), signal: deadline }).catch((error: unknown) => ({ failure: String(error) }));
    if ('failure' in created) return record(false, deadline.aborted ? 'lost' : 'interrupted', created.failure);
    if (created.status !== 202) {
      const body = (await created.json().catch(() => ({}))) as { error?: { code?: string } };
      return record(false, body.error?.code && [429, 503].includes(created.status) ? 'clear_error' : 'wrong', `${created.status} ${body.error?.code ?? ''}`);
    }
    const { id } = (await created.json()) as { id: string };
    // Accepted: from here the task must end, whatever is killed meanwhile (polling rides out outages).
    let last: { status: string; attempt?: number } | undefined;
    while (!deadline.aborted) {
      const polled = await fetch(`${this.options.base()}/v1/tasks/${id}`, { headers, signal: deadline }).then((r) => (r.ok ? (r.json() as Promise<{ status: string; attempt?: number; result?: string; error?: { code: string } }>) : undefined), () => undefined);
      last = polled ?? last;
      if (polled?.status === 'completed') return record(true, polled.result === this.options.expected ? 'completed' : 'wrong', polled.result === this.options.expected ? undefined : 'task result differs');
      if (polled && ['failed', 'rejected', 'cancelled'].includes(polled.status)) return record(true, polled.error?.code ? 'clear_error' : 'wrong', `task ${polled.status} ${polled.error?.code ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // What the task looked like last: `queued` points at admission, `running` (and its attempt) at the workers.
    record(true, 'lost', `task ${id} not terminal before the deadline (last seen ${last ? JSON.stringify(last) : 'never'})`);
  }
}

function classify(error: unknown): [accepted: boolean, outcome: Outcome, detail: string] {
  if (error instanceof OpenAI.APIConnectionError) return [false, 'interrupted', error.message];
  // The connection to access broke mid-response (undici: "terminated"; errors cross Jest's realms,
  // so they are recognised by name and message rather than instanceof).
  const { name, message } = error as { name?: string; message?: string };
  if (name === 'TypeError' && /terminated|fetch failed|other side closed/i.test(message ?? '')) return [false, 'interrupted', String(message)];
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const code = (error as { code?: string | null }).code ?? '';
    // A stream that ends with an error event carries no HTTP status: clear when it has a code.
    if ([429, 503, 504].includes(status) || (status === 0 && code)) return [status === 0, 'clear_error', `${status} ${code}`];
    return [status >= 500, 'wrong', `${status} ${code} ${error.message}`];
  }
  return [false, 'wrong', String(error)];
}

export interface Summary {
  requests: number;
  accepted: number;
  completed: number;
  clearErrors: number;
  interrupted: number;
  wrong: number;
  lost: number;
  /** Slowest completed request, ms. */
  slowestMs: number;
}

export function summarise(entries: readonly Entry[]): Summary {
  const count = (outcome: Outcome) => entries.filter((entry) => entry.outcome === outcome).length;
  return {
    requests: entries.length,
    accepted: entries.filter((entry) => entry.accepted).length,
    completed: count('completed'),
    clearErrors: count('clear_error'),
    interrupted: count('interrupted'),
    wrong: count('wrong'),
    lost: count('lost'),
    slowestMs: Math.max(0, ...entries.filter((entry) => entry.outcome === 'completed').map((entry) => entry.endedAt - entry.startedAt)),
  };
}

/** Requests in flight at any of these moments, and how long they took (what a kill costs a user). */
export function caughtBy(entries: readonly Entry[], moments: readonly number[]): number[] {
  return entries.filter((entry) => entry.outcome === 'completed' && moments.some((at) => entry.startedAt <= at && at <= entry.endedAt)).map((entry) => entry.endedAt - entry.startedAt);
}
