import type { EventInput } from '@aip/contracts';
import type { PushPublisher, PushState } from '../src/scheduler/push.dispatcher.ts';
import type { ProactiveSettings } from '../src/state/user-state.store.ts';

/** The dispatcher's per-user state in memory, with the same semantics as UserStateStore. */
export class MemoryPushState implements PushState {
  readonly settingsByUser = new Map<string, ProactiveSettings>();
  readonly claims = new Set<string>();
  readonly lastSent = new Map<string, number>();
  readonly sentPerDay = new Map<string, number>();

  async settings(tenantId: string, userId: string) {
    return this.settingsByUser.get(`${tenantId}/${userId}`);
  }
  async history(tenantId: string, userId: string, intent: string, day: string) {
    const lastSentAt = this.lastSent.get(`${tenantId}/${userId}/${intent}`);
    return { ...(lastSentAt !== undefined ? { lastSentAt } : {}), sentToday: this.sentPerDay.get(`${tenantId}/${userId}/${day}`) ?? 0 };
  }
  async claim(tenantId: string, key: string) {
    const id = `${tenantId}/${key}`;
    if (this.claims.has(id)) return false;
    this.claims.add(id);
    return true;
  }
  async unclaim(tenantId: string, key: string) {
    this.claims.delete(`${tenantId}/${key}`);
  }
  async reserveDaily(tenantId: string, userId: string, day: string, cap: number) {
    const id = `${tenantId}/${userId}/${day}`;
    const sent = this.sentPerDay.get(id) ?? 0;
    if (sent >= cap) return false;
    this.sentPerDay.set(id, sent + 1);
    return true;
  }
  async releaseDaily(tenantId: string, userId: string, day: string) {
    const id = `${tenantId}/${userId}/${day}`;
    this.sentPerDay.set(id, Math.max(0, (this.sentPerDay.get(id) ?? 0) - 1));
  }
  async recordSent(tenantId: string, userId: string, intent: string, at: number) {
    this.lastSent.set(`${tenantId}/${userId}/${intent}`, at);
  }
}

/** Collects what would be published; `failNext` makes the next publish throw like a broker outage. */
export class MemoryPublisher implements PushPublisher {
  readonly proactives: { data: EventInput<'rtc.push.proactive'>; tenantId: string }[] = [];
  readonly notices: { data: EventInput<'rtc.push.notice'>; tenantId: string }[] = [];
  failNext = false;
  private check() {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker unavailable');
    }
  }
  async proactive(data: EventInput<'rtc.push.proactive'>, tenantId: string) {
    this.check();
    this.proactives.push({ data, tenantId });
  }
  async notice(data: EventInput<'rtc.push.notice'>, tenantId: string) {
    this.check();
    this.notices.push({ data, tenantId });
  }
}
