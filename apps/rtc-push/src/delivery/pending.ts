/**
 * Pushes sent on one connection and not acked yet, with when they were last sent. Pure state:
 * the caller passes the clock, so the resend policy is tested without timers.
 */
export class PendingPushes {
  private readonly entries = new Map<string, { sentAt: number; sends: number }>();

  constructor(private readonly resendAfterMs: number) {}

  /** Records a (re)send; returns how many times it was sent before (0 = first delivery). */
  sent(id: string, now: number): number {
    const entry = this.entries.get(id);
    if (entry) {
      entry.sentAt = now;
      return entry.sends++;
    }
    this.entries.set(id, { sentAt: now, sends: 1 });
    return 0;
  }

  acked(ids: Iterable<string>): number {
    let removed = 0;
    for (const id of ids) if (this.entries.delete(id)) removed++;
    return removed;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Ids whose last send is at least `resendAfterMs` old. */
  due(now: number): string[] {
    const due: string[] = [];
    for (const [id, entry] of this.entries) if (now - entry.sentAt >= this.resendAfterMs) due.push(id);
    return due;
  }

  /** Forgets ids no longer in the inbox (acked elsewhere, trimmed, expired). */
  retainOnly(ids: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
