/** Ceiling of the re-send back-off: a push nobody acks is still re-sent, at most this far apart. */
export const MAX_RESEND_AFTER_MS = 300_000;

/**
 * Pushes sent on one connection and not acked yet, with when they were last sent. Pure state:
 * the caller passes the clock, so the resend policy is tested without timers. Re-sends back off
 * exponentially per push (`resendAfterMs`, ×2 each send, capped at `maxResendAfterMs`), so a
 * client that never acks costs little.
 */
export class PendingPushes {
  private readonly entries = new Map<string, { sentAt: number; sends: number }>();

  constructor(
    private readonly resendAfterMs: number,
    private readonly maxResendAfterMs = Math.max(resendAfterMs, MAX_RESEND_AFTER_MS),
  ) {}

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

  /** Ids whose last send is at least their back-off old (`resendAfterMs` after the first send). */
  due(now: number): string[] {
    const due: string[] = [];
    for (const [id, entry] of this.entries) if (now - entry.sentAt >= this.delayAfter(entry.sends)) due.push(id);
    return due;
  }

  /** Every id waiting for an ack. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  private delayAfter(sends: number): number {
    return Math.min(this.maxResendAfterMs, this.resendAfterMs * 2 ** Math.min(sends - 1, 30));
  }

  /** Forgets ids no longer in the inbox (acked elsewhere, trimmed, expired). */
  retainOnly(ids: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
