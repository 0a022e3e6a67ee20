import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrate, openUsageDatabase, type UsageDb } from './usage.database.ts';
import type { UsageEntry } from './usage-entry.ts';
import { UsageLedger } from './usage.ledger.ts';

// The same ledger on both stores it runs on: PGlite (the embedded default) and the machine's real
// PostgreSQL (DATABASE_URL in production; here a database made for the run and dropped after).
const ADMIN_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function entry(overrides: Partial<UsageEntry> = {}): UsageEntry {
  return {
    eventId: randomUUID(),
    occurredAt: new Date('2026-12-08T10:15:00Z'),
    tenantId: 'acme',
    keyId: 'key-a',
    userId: 'u1',
    sessionId: null,
    taskId: randomUUID(),
    model: 'fast',
    provider: 'openai',
    providerModel: 'gpt-x',
    status: 'completed',
    errorClass: null,
    promptTokens: 100,
    completionTokens: 50,
    cachedTokens: 0,
    costNanos: 1_750_000,
    queueMs: 1,
    firstTokenMs: 40,
    durationMs: 200,
    traceId: null,
    ...overrides,
  };
}

describe.each([
  ['PGlite (embedded)', async () => ({ db: await openUsageDatabase({}), drop: async () => undefined })],
  [
    'PostgreSQL 127.0.0.1:5432',
    async () => {
      const name = `aip_usage_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      const db = await openUsageDatabase({ url: url.toString() });
      return {
        db,
        drop: async () => {
          await db.destroy();
          await admin.query(`DROP DATABASE IF EXISTS ${name}`);
          await admin.end();
        },
      };
    },
  ],
] as const)('usage ledger on %s', (_store, open) => {
  let db: UsageDb;
  let drop: () => Promise<void>;
  let ledger: UsageLedger;
  const day = { from: new Date('2026-12-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };

  beforeAll(async () => {
    ({ db, drop } = await open());
    expect(await migrate(db)).toEqual(['0001_usage_events', '0002_feedback']);
    // A second start runs nothing again.
    expect(await migrate(db)).toEqual([]);
    ledger = new UsageLedger(db);
  });
  afterAll(async () => drop());

  it('keeps one row per event: a redelivered event changes nothing', async () => {
    const once = entry({ tenantId: 'redelivery' });
    expect(await ledger.record([once])).toBe(1);
    expect(await ledger.record([once])).toBe(0);
    const [line] = await ledger.report({ ...day, tenantId: 'redelivery' }, []);
    expect(line).toMatchObject({ requests: 1, promptTokens: 100, completionTokens: 50, cost: 0.00175 });
  });

  it('sums by tenant, model and day, and a tenant filter sees only its own rows', async () => {
    await ledger.record([
      entry({ tenantId: 'report', model: 'fast', costNanos: 1_000_000 }),
      entry({ tenantId: 'report', model: 'fast', costNanos: 2_000_000, firstTokenMs: 60 }),
      entry({ tenantId: 'report', model: 'smart', status: 'failed', errorClass: 'timeout', promptTokens: 0, completionTokens: 0, costNanos: 0, firstTokenMs: null }),
      entry({ tenantId: 'report', model: 'fast', occurredAt: new Date('2026-12-09T01:00:00Z'), costNanos: 3 }),
      entry({ tenantId: 'other-tenant', model: 'fast', costNanos: 99_000_000_000 }),
    ]);
    const lines = await ledger.report({ ...day, tenantId: 'report' }, ['model', 'day']);
    expect(lines).toEqual([
      expect.objectContaining({ day: '2026-12-09', model: 'fast', requests: 1, cost: 3e-9 }),
      expect.objectContaining({ day: '2026-12-08', model: 'fast', requests: 2, failed: 0, cost: 0.003, firstTokenMsP50: 50 }),
      expect.objectContaining({ day: '2026-12-08', model: 'smart', requests: 1, failed: 1, cost: 0, firstTokenMsP50: null }),
    ]);
    const byTenant = await ledger.report(day, ['tenant']);
    expect(byTenant.find((line) => line.tenant === 'other-tenant')).toMatchObject({ requests: 1, cost: 99 });
  });

  it('keys see their own usage only, by hour', async () => {
    await ledger.record([entry({ tenantId: 'keys', keyId: 'k1' }), entry({ tenantId: 'keys', keyId: 'k2' }), entry({ tenantId: 'keys', keyId: 'k2' })]);
    expect(await ledger.report({ ...day, tenantId: 'keys', keyId: 'k2' }, ['hour'])).toEqual([expect.objectContaining({ hour: '2026-12-08T10:00Z', requests: 2 })]);
  });

  it('joins ratings to their answers: the mean score per group, a later rating replacing the first', async () => {
    const [good, bad, unrated] = [entry({ tenantId: 'rated', provider: 'a' }), entry({ tenantId: 'rated', provider: 'b' }), entry({ tenantId: 'rated', provider: 'b' })];
    await ledger.record([good, bad, unrated]);
    const at = new Date();
    await ledger.rate({ tenantId: 'rated', taskId: good.taskId, keyId: 'key-a', userId: 'u1', score: 1, comment: null, at });
    await ledger.rate({ tenantId: 'rated', taskId: bad.taskId, keyId: 'key-a', userId: 'u1', score: 1, comment: 'first thought', at });
    await ledger.rate({ tenantId: 'rated', taskId: bad.taskId, keyId: 'key-a', userId: 'u1', score: -0.5, comment: 'on reflection', at });
    // A rating under another tenant's name for the same task id is not this tenant's.
    await ledger.rate({ tenantId: 'elsewhere', taskId: unrated.taskId, keyId: 'key-z', userId: null, score: -1, comment: null, at });
    expect(await ledger.report({ ...day, tenantId: 'rated' }, ['provider'])).toEqual([
      expect.objectContaining({ provider: 'a', requests: 1, feedbackScore: 1, feedbackCount: 1 }),
      expect.objectContaining({ provider: 'b', requests: 2, feedbackScore: -0.5, feedbackCount: 1 }),
    ]);
    expect(await ledger.answer('rated', good.taskId)).toEqual({ keyId: 'key-a', userId: 'u1', status: 'completed' });
    expect(await ledger.answer('elsewhere', good.taskId)).toBeUndefined();
  });

  it('drops whole months past retention, and records into a month it has not seen', async () => {
    await ledger.record([entry({ tenantId: 'old', occurredAt: new Date('2025-03-10T00:00:00Z') })]);
    expect(await ledger.report({ tenantId: 'old', from: new Date('2025-01-01'), to: new Date('2026-01-01') }, [])).toEqual([expect.objectContaining({ requests: 1 })]);
    const dropped = await ledger.prune(new Date('2025-06-01T00:00:00Z'));
    expect(dropped).toEqual(expect.arrayContaining(['usage_events_y2025m03', 'usage_events_y2025m04']));
    expect(dropped).not.toContain('usage_events_y2026m12');
    expect(await ledger.report({ tenantId: 'old', from: new Date('2025-01-01'), to: new Date('2026-01-01') }, [])).toEqual([expect.objectContaining({ requests: 0 })]);
    // The month comes back when a late event of it arrives.
    expect(await ledger.record([entry({ tenantId: 'old', occurredAt: new Date('2025-03-11T00:00:00Z') })])).toBe(1);
  });
});
