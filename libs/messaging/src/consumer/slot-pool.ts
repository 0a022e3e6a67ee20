/**
 * Handler slots shared by the subscriptions of one handler (its shared group and the lanes the
 * instance holds), so the instance never runs more than `size` handlers at once whichever group
 * the messages came from. Two subscriptions polling at once may receive more than there are free
 * slots: those messages wait here in arrival order (their leases renewed) instead of going back
 * to the broker, which would count a delivery attempt against them.
 */
export class SlotPool {
  private used = 0;
  private readonly queue: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`slot pool size must be a positive integer, got ${size}`);
  }

  get free(): number {
    return Math.max(0, this.size - this.used);
  }

  get inUse(): number {
    return this.used;
  }

  /** Takes a free slot now if there is one (no waiting in line behind anyone: the line is only ever non-empty while none is free). */
  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used += 1;
    return true;
  }

  /** Resolves once a slot is this caller's: at once when one is free, else when one is given back. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.queue.push(resolve));
  }

  give(): void {
    const next = this.queue.shift();
    if (next) return next(); // handed straight to the longest waiter: still in use
    this.used = Math.max(0, this.used - 1);
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` whenever a slot becomes free, until the returned function is called. */
  onFree(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
