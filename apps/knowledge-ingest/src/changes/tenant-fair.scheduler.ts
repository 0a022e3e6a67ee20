export interface TenantFairSchedulerOptions {
  /** Tasks running at once, over all tenants. */
  readonly concurrency: number;
  /** Tasks of one tenant running at once (default: `concurrency`). */
  readonly perTenant?: number;
}

interface Waiting {
  readonly seq: number;
  readonly start: () => void;
  readonly reject: (error: Error) => void;
}

interface TenantState {
  readonly waiting: Waiting[];
  running: number;
  /** Stamp of its last start (0: none yet). The tenant served least recently goes first. */
  lastStart: number;
}

/** Thrown to tasks still waiting when the scheduler closes (shutdown): their messages go back to the broker. */
export class SchedulerClosedError extends Error {
  override readonly name = 'SchedulerClosedError';
}

/**
 * Runs tasks at most `concurrency` at a time and shares the slots fairly between tenants: when a
 * slot frees, the next task is the oldest of the tenant served least recently (a tenant with
 * nothing running or waiting starts afresh, i.e. first), among tenants below `perTenant`. A
 * tenant's own tasks start in the order they came. So one tenant's flood cannot keep another's
 * task waiting behind it: that task waits only for the tasks already running.
 *
 * It orders only what it is given: a change still in the broker is not here (see ADR 0015 for how
 * the consumer's window and the upload quota keep a flood from filling the topic ahead of it).
 */
export class TenantFairScheduler {
  private readonly tenants = new Map<string, TenantState>();
  private readonly perTenant: number;
  private running = 0;
  private stamps = 0;
  private closed = false;

  constructor(private readonly options: TenantFairSchedulerOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    this.perTenant = options.perTenant ?? options.concurrency;
    if (!Number.isSafeInteger(this.perTenant) || this.perTenant < 1) throw new RangeError(`perTenant must be a positive integer, got ${this.perTenant}`);
  }

  get stats(): { running: number; waiting: number; tenants: number } {
    let waiting = 0;
    for (const state of this.tenants.values()) waiting += state.waiting.length;
    return { running: this.running, waiting, tenants: this.tenants.size };
  }

  /** Runs `task` when it is the tenant's turn; settles as the task does. */
  run<T>(tenantId: string, task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new SchedulerClosedError('shutting down: the change goes back to the broker'));
    return new Promise<T>((resolve, reject) => {
      const state = this.tenants.get(tenantId) ?? { waiting: [], running: 0, lastStart: 0 };
      this.tenants.set(tenantId, state);
      state.waiting.push({
        seq: ++this.stamps,
        reject,
        start: () => {
          state.running += 1;
          this.running += 1;
          void (async () => task())()
            .then(resolve, reject)
            .finally(() => {
              state.running -= 1;
              this.running -= 1;
              if (state.running === 0 && state.waiting.length === 0) this.tenants.delete(tenantId);
              this.pump();
            });
        },
      });
      this.pump();
    });
  }

  /** Tasks waiting fail with `SchedulerClosedError`, and so do new ones; running tasks finish. */
  close(): void {
    this.closed = true;
    for (const [tenantId, state] of this.tenants) {
      for (const waiting of state.waiting.splice(0)) waiting.reject(new SchedulerClosedError('shutting down: the change goes back to the broker'));
      if (state.running === 0) this.tenants.delete(tenantId);
    }
  }

  private pump(): void {
    while (this.running < this.options.concurrency) {
      const next = this.next();
      if (!next) return;
      const waiting = next.waiting.shift()!;
      next.lastStart = ++this.stamps;
      waiting.start();
    }
  }

  /** The eligible tenant served least recently; between tenants never served, the one waiting longest. */
  private next(): TenantState | undefined {
    let best: TenantState | undefined;
    for (const state of this.tenants.values()) {
      if (state.waiting.length === 0 || state.running >= this.perTenant) continue;
      if (!best || state.lastStart < best.lastStart || (state.lastStart === best.lastStart && state.waiting[0]!.seq < best.waiting[0]!.seq)) best = state;
    }
    return best;
  }
}
