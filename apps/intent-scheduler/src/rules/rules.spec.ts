import { effectiveQuietHours, inQuietHours, localTime, userTimeZone } from './local-time.ts';
import { cooldownRule, dailyCapRule, dedupeKey, evaluate, expiryRule, optOutRule, quietHoursRule, streamingRule, userActiveRule, type RuleInput } from './rules.ts';

const NOON_UTC = Date.UTC(2026, 10, 22, 12, 0);
const base: RuleInput = { now: NOON_UTC, timezone: 'UTC', optOut: false, quietHours: null, userGraceMs: 10_000, cooldownMs: 3_600_000, sentToday: 0, dailyCap: 3 };

describe('local time', () => {
  it('gives the user\'s local date and time of day in their time zone', () => {
    expect(localTime(NOON_UTC, 'UTC')).toEqual({ day: '2026-11-22', minutes: 12 * 60 });
    expect(localTime(NOON_UTC, 'Asia/Shanghai')).toEqual({ day: '2026-11-22', minutes: 20 * 60 });
    expect(localTime(Date.UTC(2026, 10, 22, 20, 30), 'Asia/Tokyo')).toEqual({ day: '2026-11-23', minutes: 5 * 60 + 30 });
    expect(localTime(Date.UTC(2026, 10, 22, 2, 0), 'America/New_York')).toEqual({ day: '2026-11-21', minutes: 21 * 60 });
  });

  it('follows daylight saving time', () => {
    expect(localTime(Date.UTC(2026, 6, 1, 12, 0), 'Europe/Berlin').minutes).toBe(14 * 60);
    expect(localTime(Date.UTC(2026, 11, 1, 12, 0), 'Europe/Berlin').minutes).toBe(13 * 60);
  });

  it('quiet hours: a plain window, one across midnight, and none', () => {
    const day = { start: '09:00', end: '17:00' };
    const night = { start: '22:00', end: '08:00' };
    expect([8 * 60 + 59, 9 * 60, 16 * 60 + 59, 17 * 60].map((m) => inQuietHours(m, day))).toEqual([false, true, true, false]);
    expect([21 * 60 + 59, 22 * 60, 0, 7 * 60 + 59, 8 * 60].map((m) => inQuietHours(m, night))).toEqual([false, true, true, true, false]);
    expect(inQuietHours(3 * 60, null)).toBe(false);
    expect(inQuietHours(3 * 60, { start: '10:00', end: '10:00' })).toBe(false);
  });
});

describe('quiet hours of a user', () => {
  const night = { start: '22:00', end: '08:00' };

  it("are the user's own when set (null = none), the default only when the user's time zone is known", () => {
    expect(effectiveQuietHours({ quietHours: { start: '12:00', end: '13:00' } }, night, undefined)).toEqual({ start: '12:00', end: '13:00' });
    expect(effectiveQuietHours({ quietHours: null }, night, 'Asia/Tokyo')).toBeNull();
    expect(effectiveQuietHours({}, night, 'Asia/Tokyo')).toEqual(night);
    // The zone is the settings' own, else the profile's.
    expect(userTimeZone({ timezone: 'Asia/Tokyo' }, 'Europe/Berlin')).toBe('Asia/Tokyo');
    expect(userTimeZone({}, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(userTimeZone(undefined, undefined)).toBeUndefined();
    // Unknown time zone: a night in UTC is the afternoon elsewhere, so no default applies.
    expect(effectiveQuietHours({}, night, undefined)).toBeNull();
    expect(effectiveQuietHours(undefined, night, undefined)).toBeNull();
  });
});

describe('rules', () => {
  it('opt-out suppresses', () => {
    expect(optOutRule({ ...base, optOut: true })).toEqual({ outcome: 'suppress', reason: 'opted_out' });
    expect(optOutRule(base)).toBeUndefined();
  });

  it('an expired prompt is dropped', () => {
    expect(expiryRule({ ...base, expiresAt: NOON_UTC - 1 })).toEqual({ outcome: 'suppress', reason: 'expired' });
    expect(expiryRule({ ...base, expiresAt: NOON_UTC })).toBeUndefined();
  });

  it('a pending or streaming answer postpones', () => {
    expect(streamingRule({ ...base, pendingUntil: NOON_UTC + 1 })).toEqual({ outcome: 'defer', reason: 'streaming' });
    expect(streamingRule({ ...base, pendingUntil: NOON_UTC })).toBeUndefined();
  });

  it('a user who just spoke is left alone for the grace period', () => {
    expect(userActiveRule({ ...base, lastUserAt: NOON_UTC - 9_999 })).toEqual({ outcome: 'defer', reason: 'user_active' });
    expect(userActiveRule({ ...base, lastUserAt: NOON_UTC - 10_000 })).toBeUndefined();
  });

  it('quiet hours apply in the user\'s time zone', () => {
    const night = { start: '22:00', end: '08:00' };
    expect(quietHoursRule({ ...base, quietHours: night })).toBeUndefined(); // 12:00 UTC
    expect(quietHoursRule({ ...base, quietHours: night, timezone: 'Pacific/Auckland' })).toEqual({ outcome: 'suppress', reason: 'quiet_hours' }); // 01:00 NZDT
  });

  it('cooldown per user and intent', () => {
    expect(cooldownRule({ ...base, lastSentAt: NOON_UTC - 3_599_999 })).toEqual({ outcome: 'suppress', reason: 'cooldown' });
    expect(cooldownRule({ ...base, lastSentAt: NOON_UTC - 3_600_000 })).toBeUndefined();
  });

  it('daily cap per user', () => {
    expect(dailyCapRule({ ...base, sentToday: 3 })).toEqual({ outcome: 'suppress', reason: 'daily_cap' });
    expect(dailyCapRule({ ...base, sentToday: 2 })).toBeUndefined();
    expect(dailyCapRule({ ...base, dailyCap: 0 })).toEqual({ outcome: 'suppress', reason: 'daily_cap' });
  });

  it('the first objection decides, in order: opt-out, expiry, streaming, user active, quiet hours, cooldown, cap', () => {
    const everything: RuleInput = { ...base, optOut: true, expiresAt: 0, pendingUntil: NOON_UTC + 1, lastUserAt: NOON_UTC, quietHours: { start: '00:00', end: '23:59' }, lastSentAt: NOON_UTC, sentToday: 9 };
    const reasons: string[] = [];
    let input = everything;
    const lift: Partial<RuleInput>[] = [{ optOut: false }, { expiresAt: undefined }, { pendingUntil: undefined }, { lastUserAt: undefined }, { quietHours: null }, { lastSentAt: undefined }, { sentToday: 0 }];
    for (const change of lift) {
      const verdict = evaluate(input);
      reasons.push(verdict.outcome === 'send' ? 'send' : verdict.reason);
      input = { ...input, ...change };
    }
    reasons.push(evaluate(input).outcome);
    expect(reasons).toEqual(['opted_out', 'expired', 'streaming', 'user_active', 'quiet_hours', 'cooldown', 'daily_cap', 'send']);
  });

  it('dedupe key: per user, intent, slot values (any order, any case) and local day', () => {
    const key = dedupeKey('u1', 'city_attractions', { city: 'Beijing', kind: 'hotel' }, '2026-11-22');
    expect(dedupeKey('u1', 'city_attractions', { kind: 'HOTEL', city: ' beijing' }, '2026-11-22')).toBe(key);
    expect(dedupeKey('u1', 'city_attractions', { city: 'Paris', kind: 'hotel' }, '2026-11-22')).not.toBe(key);
    expect(dedupeKey('u1', 'city_attractions', { city: 'Beijing', kind: 'hotel' }, '2026-11-23')).not.toBe(key);
    expect(dedupeKey('u2', 'city_attractions', { city: 'Beijing', kind: 'hotel' }, '2026-11-22')).not.toBe(key);
    expect(dedupeKey('u'.repeat(128), 'i'.repeat(64), { a: 'x'.repeat(256), b: 'y'.repeat(256) }, '2026-11-22').length).toBeLessThanOrEqual(512);
  });
});
