/**
 * One socket's inbound frames, handled one at a time in arrival order, with a bound on how many
 * may wait: a client that sends faster than we handle (e.g. acks while Redis is slow) would
 * otherwise grow an unbounded promise chain in this process.
 */
export class FrameQueue {
  private tail: Promise<unknown>;
  private waiting = 0;

  /** `after`: what the first frame waits for (authentication). */
  constructor(
    after: Promise<unknown>,
    readonly limit: number,
  ) {
    this.tail = after.catch(() => undefined);
  }

  /** Queues `task` behind everything before it; false (nothing queued) when `limit` frames are already waiting or running. */
  push(task: () => Promise<void>): boolean {
    if (this.waiting >= this.limit) return false;
    this.waiting++;
    this.tail = this.tail
      .then(task)
      .catch(() => undefined)
      .finally(() => this.waiting--);
    return true;
  }

  get size(): number {
    return this.waiting;
  }
}
