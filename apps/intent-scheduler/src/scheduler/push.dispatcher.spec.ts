import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MemoryPublisher, MemoryPushState } from '../../test/memory-push-state.ts';
import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import { SchedulerMetrics } from '../metrics/scheduler.metrics.ts';
import { PushDispatcher, type PushRequest } from './push.dispatcher.ts';

const NOON_UTC = Date.UTC(2026, 10, 22, 12, 0);
const catalogue = parseCatalogue(DEFAULT_CATALOGUE);

function setup(now = NOON_UTC) {
  const registry = new Registry();
  const metrics = SchedulerMetrics.for(registry);
  const state = new MemoryPushState();
  const publisher = new MemoryPublisher();
  const clock = { now };
  const dispatcher = new PushDispatcher(state, publisher, () => catalogue, metrics, pino({ level: 'silent' }), () => clock.now);
  const counted = async (intent: string, outcome: string, reason: string) =>
    (await metrics.decisions.get()).values.find((v) => v.labels.intent === intent && v.labels.outcome === outcome && v.labels.reason === reason)?.value ?? 0;
  return { state, publisher, dispatcher, clock, counted };
}

const hotel: PushRequest = {
  kind: 'proactive',
  tenantId: 'acme',
  userId: 'u1',
  sessionId: 's1',
  intent: 'city_attractions',
  subject: { city: 'Beijing' },
  text: 'Planning a trip to Beijing? I can suggest hotels in Beijing.',
  cooldownMs: 24 * 3_600_000,
  expiresAt: NOON_UTC + 60_000,
};

describe('PushDispatcher', () => {
  it('publishes a proactive prompt with slots and a dedupe key, and counts it', async () => {
    const { dispatcher, publisher, counted } = setup();
    const decision = await dispatcher.dispatch(hotel);
    expect(decision).toEqual({ outcome: 'sent', reason: 'none', dedupeKey: 'proactive|u1|city_attractions|city=beijing|2026-11-22' });
    expect(publisher.proactives).toEqual([
      {
        tenantId: 'acme',
        data: { userId: 'u1', sessionId: 's1', intent: 'city_attractions', text: hotel.text, slots: { city: 'Beijing' }, dedupeKey: decision.dedupeKey, expiresAt: new Date(NOON_UTC + 60_000).toISOString() },
      },
    ]);
    expect(await counted('city_attractions', 'sent', 'none')).toBe(1);
  });

  it('the same prompt again inside the cooldown is suppressed; after it, the dedupe key still holds that day', async () => {
    const { dispatcher, publisher, clock, counted } = setup();
    await dispatcher.dispatch(hotel);
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'suppressed', reason: 'cooldown' });
    clock.now += 24 * 3_600_000; // next day, cooldown over: a new day's key
    expect(await dispatcher.dispatch({ ...hotel, expiresAt: undefined })).toMatchObject({ outcome: 'sent' });
    expect(publisher.proactives).toHaveLength(2);
    expect(await counted('city_attractions', 'suppressed', 'cooldown')).toBe(1);
  });

  it('a dedupe key claimed elsewhere (another replica, a redelivery) suppresses as duplicate', async () => {
    const { dispatcher, state, publisher } = setup();
    await state.claim('acme', 'proactive|u1|city_attractions|city=beijing|2026-11-22');
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'suppressed', reason: 'duplicate' });
    expect(publisher.proactives).toHaveLength(0);
  });

  it('opted-out users get nothing', async () => {
    const { dispatcher, state, publisher, counted } = setup();
    state.settingsByUser.set('acme/u1', { optOut: true });
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'suppressed', reason: 'opted_out' });
    expect(publisher.proactives).toHaveLength(0);
    expect(await counted('city_attractions', 'suppressed', 'opted_out')).toBe(1);
  });

  it('quiet hours in the user\'s own time zone suppress, with the reason counted', async () => {
    const { dispatcher, state, counted } = setup();
    state.settingsByUser.set('acme/u1', { optOut: false, timezone: 'Asia/Tokyo' }); // 21:00 in Tokyo: default 22–08 does not apply yet
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'sent' });
    state.settingsByUser.set('acme/u2', { optOut: false, timezone: 'Pacific/Auckland' }); // 01:00 in Auckland
    expect(await dispatcher.dispatch({ ...hotel, userId: 'u2' })).toMatchObject({ outcome: 'suppressed', reason: 'quiet_hours' });
    state.settingsByUser.set('acme/u3', { optOut: false, timezone: 'Pacific/Auckland', quietHours: null }); // opted out of quiet hours
    expect(await dispatcher.dispatch({ ...hotel, userId: 'u3' })).toMatchObject({ outcome: 'sent' });
    expect(await counted('city_attractions', 'suppressed', 'quiet_hours')).toBe(1);
  });

  it("takes the time zone of the user's profile when their proactive settings name none", async () => {
    const { state, publisher, counted } = setup();
    const zones: Record<string, string> = { u1: 'Pacific/Auckland', u2: 'Asia/Tokyo' };
    const dispatcher = new PushDispatcher(state, publisher, () => catalogue, SchedulerMetrics.for(new Registry()), pino({ level: 'silent' }), () => NOON_UTC, async (_tenant, userId) => zones[userId]);
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'suppressed', reason: 'quiet_hours' }); // 01:00 in Auckland
    // The settings' own zone wins over the profile's.
    state.settingsByUser.set('acme/u1', { optOut: false, timezone: 'Asia/Tokyo' });
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'sent' });
    expect(await dispatcher.dispatch({ ...hotel, userId: 'u2' })).toMatchObject({ outcome: 'sent' });
    expect(await counted('city_attractions', 'suppressed', 'quiet_hours')).toBe(0); // counted on the other registry
  });

  it('stops at the daily cap of the user\'s local day', async () => {
    const { dispatcher } = setup();
    const outcomes = [];
    for (const city of ['Beijing', 'Paris', 'Rome', 'Tokyo']) outcomes.push((await dispatcher.dispatch({ ...hotel, subject: { city }, cooldownMs: 0 })).reason);
    expect(outcomes).toEqual(['none', 'none', 'none', 'daily_cap']);
  });

  it('two pushes to one user at once at cap - 1 (a notice and a prompt): exactly one goes out', async () => {
    const { dispatcher, state, publisher } = setup();
    state.sentPerDay.set('acme/u1/2026-11-22', 2);
    const notice: PushRequest = { kind: 'notice', tenantId: 'acme', userId: 'u1', intent: 'new_content', subject: { doc: 'kb/d1@v1' }, title: 'New content', text: 'New content about Beijing is available.', cooldownMs: 0 };
    const decisions = await Promise.all([dispatcher.dispatch(hotel), dispatcher.dispatch(notice)]);
    expect(decisions.map((d) => d.reason).sort()).toEqual(['daily_cap', 'none']);
    expect(publisher.proactives.length + publisher.notices.length).toBe(1);
    expect(state.sentPerDay.get('acme/u1/2026-11-22')).toBe(3);
    expect(state.claims.size).toBe(1); // the refused one gave its dedupe key back
  });

  it('postpones while the answer streams or the user just spoke', async () => {
    const { dispatcher, publisher } = setup();
    expect(await dispatcher.dispatch({ ...hotel, session: { pendingUntil: NOON_UTC + 1_000 } })).toMatchObject({ outcome: 'deferred', reason: 'streaming' });
    expect(await dispatcher.dispatch({ ...hotel, session: { lastUserAt: NOON_UTC - 1_000 } })).toMatchObject({ outcome: 'deferred', reason: 'user_active' });
    expect(publisher.proactives).toHaveLength(0);
  });

  it('a failed publish gives the dedupe key back and records nothing, so the next attempt sends', async () => {
    const { dispatcher, publisher, state } = setup();
    publisher.failNext = true;
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'failed', reason: 'publish_error' });
    expect(state.sentPerDay.get('acme/u1/2026-11-22') ?? 0).toBe(0);
    expect(await dispatcher.dispatch(hotel)).toMatchObject({ outcome: 'sent' });
    expect(publisher.proactives).toHaveLength(1);
    expect(state.sentPerDay.get('acme/u1/2026-11-22')).toBe(1);
  });

  it('publishes nothing when the fence says the shard is no longer ours', async () => {
    const { dispatcher, publisher, state } = setup();
    expect(await dispatcher.dispatch(hotel, async () => false)).toMatchObject({ outcome: 'failed', reason: 'lock_lost' });
    expect(publisher.proactives).toHaveLength(0);
    expect(state.claims.size).toBe(0);
  });

  it('sends notices with a title and the same rules', async () => {
    const { dispatcher, publisher } = setup();
    const notice: PushRequest = { kind: 'notice', tenantId: 'acme', userId: 'u1', intent: 'new_content', subject: { doc: 'kb/d1@v1' }, title: 'New content', text: 'New content about Beijing is available.', cooldownMs: 3_600_000 };
    expect(await dispatcher.dispatch(notice)).toMatchObject({ outcome: 'sent' });
    expect(await dispatcher.dispatch({ ...notice, subject: { doc: 'kb/d2@v1' } })).toMatchObject({ outcome: 'suppressed', reason: 'cooldown' });
    expect(publisher.notices).toEqual([{ tenantId: 'acme', data: { userId: 'u1', title: 'New content', text: notice.text, dedupeKey: 'notice|u1|new_content|doc=kb/d1@v1|2026-11-22' } }]);
  });
});
