/**
 * Handler slots shared by the subscriptions of one handler (its shared group and the lanes the
 * instance holds), so the instance never runs more than `size` messages at once whichever group
 * they came from.
 */
export class SlotPool {
  private used = 0;
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

  /** Takes up to `wanted` slots and returns how many it got. */
  take(wanted: number): number {
    const got = Math.max(0, Math.min(wanted, this.free));
    this.used += got;
    return got;
  }

  give(): void {
    this.used = Math.max(0, this.used - 1);
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` on every slot given back until the returned function is called. */
  onFree(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
