// A value that changes over time and says so: the framework-free state of the page (conversation,
// uploads) lives in stores like this, so it is tested without a DOM and the views only render it.
export class Store<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Replaces the value (never mutate it in place: views compare by identity). */
  protected set(next: T): void {
    this.current = next;
    for (const listener of this.listeners) listener(next);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
