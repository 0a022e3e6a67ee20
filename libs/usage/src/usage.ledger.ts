import { sql, type Expression, type SqlBool } from 'kysely';
import type { UsageDb } from './usage.database.ts';
import type { UsageEntry } from './usage-entry.ts';

/** What a report may be grouped by: the row's who and what, and a time bucket. */
export const USAGE_DIMENSIONS = ['tenant', 'key', 'user', 'model', 'provider', 'status', 'day', 'hour'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export interface UsageFilter {
  from: Date;
  to: Date;
  tenantId?: string | undefined;
  keyId?: string | undefined;
  userId?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
}

/** One line of a report: its dimensions' values, then the sums over its rows. */
export interface UsageLine {
  tenant?: string;
  key?: string;
  user?: string | null;
  model?: string | null;
  provider?: string | null;
  status?: string;
  day?: string;
  hour?: string;
  requests: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** US dollars (the exact sum of the rows' costs, shown to 1e-9). */
  cost: number;
  /** Of the completed requests. */
  firstTokenMsP50: number | null;
  durationMsP50: number | null;
  /** The mean score of the answers rated (-1 to 1), and how many were. */
  feedbackScore: number | null;
  feedbackCount: number;
}

/** A rating of one answer (`POST /v1/feedback`): -1 (bad) to 1 (good). */
export interface Feedback {
  tenantId: string;
  taskId: string;
  keyId: string;
  userId: string | null;
  score: number;
  comment: string | null;
  at: Date;
}

const COLUMN: Record<Exclude<UsageDimension, 'day' | 'hour'>, 'u.tenant_id' | 'u.key_id' | 'u.user_id' | 'u.model' | 'u.provider' | 'u.status'> = {
  tenant: 'u.tenant_id',
  key: 'u.key_id',
  user: 'u.user_id',
  model: 'u.model',
  provider: 'u.provider',
  status: 'u.status',
};

const MONTH_MS = 31 * 86_400_000;

/** `usage_events_y2026m12` and the month's bounds, for the month of `at` (UTC). */
function monthOf(at: Date): { name: string; from: string; to: string } {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const from = new Date(Date.UTC(year, month, 1));
  const to = new Date(Date.UTC(year, month + 1, 1));
  return { name: `usage_events_y${year}m${String(month + 1).padStart(2, '0')}`, from: from.toISOString(), to: to.toISOString() };
}

/**
 * The usage ledger: one row per request's end, written once per lifecycle event (its id is the
 * key: a redelivery changes nothing), and reports over it. Rows live in monthly partitions, made
 * as months come and dropped whole by `prune`.
 */
export class UsageLedger {
  private readonly months = new Set<string>();
  private readonly open: () => Promise<UsageDb>;
  private opened: Promise<UsageDb> | undefined;

  /**
   * `open` is called once, by the first call or by `ready` (PGlite takes ~2 s to start): every
   * call waits for it, nothing else does. A failed open is tried again by the next call.
   */
  constructor(open: UsageDb | (() => Promise<UsageDb>)) {
    this.open = typeof open === 'function' ? open : async () => open;
  }

  /** Opens the database now (at the app's start), so the first row does not wait for it. */
  ready(): Promise<UsageDb> {
    this.opened ??= this.open().catch((error: unknown) => {
      this.opened = undefined;
      throw error;
    });
    return this.opened;
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened).destroy();
  }

  /** Writes the rows; rows already written (same event id) are left as they are. Returns how many were new. */
  async record(entries: readonly UsageEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const db = await this.ready();
    for (const entry of entries) await this.ensureMonth(db, entry.occurredAt);
    const result = await db
      .insertInto('usage_events')
      .values(
        entries.map((entry) => ({
          event_id: entry.eventId,
          occurred_at: entry.occurredAt,
          tenant_id: entry.tenantId,
          key_id: entry.keyId,
          user_id: entry.userId,
          session_id: entry.sessionId,
          task_id: entry.taskId,
          model: entry.model,
          provider: entry.provider,
          provider_model: entry.providerModel,
          status: entry.status,
          error_class: entry.errorClass,
          prompt_tokens: entry.promptTokens,
          completion_tokens: entry.completionTokens,
          cached_tokens: entry.cachedTokens,
          cost_nanos: String(entry.costNanos),
          queue_ms: entry.queueMs,
          first_token_ms: entry.firstTokenMs,
          duration_ms: entry.durationMs,
          trace_id: entry.traceId,
        })),
      )
      .onConflict((conflict) => conflict.columns(['event_id', 'occurred_at']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  /** Sums over the rows that match, one line per value of the dimensions (none: one line), newest bucket first. */
  async report(filter: UsageFilter, by: readonly UsageDimension[]): Promise<UsageLine[]> {
    const dims = [...new Set(by)];
    const db = await this.ready();
    let query = db
      .selectFrom('usage_events as u')
      .leftJoin('feedback as f', (join) => join.onRef('f.tenant_id', '=', 'u.tenant_id').onRef('f.task_id', '=', 'u.task_id'))
      .where('u.occurred_at', '>=', filter.from)
      .where('u.occurred_at', '<', filter.to)
      .select((eb) => [
        eb.fn.countAll<string>().as('requests'),
        eb.fn.count<string>(sql`CASE WHEN u.status <> 'completed' THEN 1 END`).as('failed'),
        eb.fn.coalesce(eb.fn.sum<string>('u.prompt_tokens'), sql<string>`0`).as('prompt_tokens'),
        eb.fn.coalesce(eb.fn.sum<string>('u.completion_tokens'), sql<string>`0`).as('completion_tokens'),
        eb.fn.coalesce(eb.fn.sum<string>('u.cached_tokens'), sql<string>`0`).as('cached_tokens'),
        eb.fn.coalesce(eb.fn.sum<string>('u.cost_nanos'), sql<string>`0`).as('cost_nanos'),
        sql<number | null>`percentile_cont(0.5) WITHIN GROUP (ORDER BY u.first_token_ms) FILTER (WHERE u.status = 'completed')`.as('first_token_p50'),
        sql<number | null>`percentile_cont(0.5) WITHIN GROUP (ORDER BY u.duration_ms) FILTER (WHERE u.status = 'completed')`.as('duration_p50'),
        eb.fn.avg<number | null>('f.score').as('feedback_score'),
        eb.fn.count<string>('f.score').as('feedback_count'),
      ]);
    const filters: [keyof UsageFilter, 'u.tenant_id' | 'u.key_id' | 'u.user_id' | 'u.model' | 'u.provider'][] = [['tenantId', 'u.tenant_id'], ['keyId', 'u.key_id'], ['userId', 'u.user_id'], ['model', 'u.model'], ['provider', 'u.provider']];
    for (const [field, column] of filters) {
      const value = filter[field];
      if (typeof value === 'string') query = query.where(column, '=', value);
    }
    for (const dim of dims) {
      // Literals, not parameters: the select and the group by must be the same expression to Postgres.
      const expression: Expression<unknown> = dim === 'day' || dim === 'hour' ? sql`to_char(date_trunc(${sql.lit(dim)}, u.occurred_at AT TIME ZONE 'UTC'), ${sql.lit(dim === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM-DD"T"HH24:00"Z"')})` : sql.ref(COLUMN[dim]);
      query = query.select(sql`${expression}`.as(dim)).groupBy(sql`${expression}` as Expression<SqlBool>);
    }
    if (dims.includes('day') || dims.includes('hour')) query = query.orderBy(sql.ref(dims.includes('hour') ? 'hour' : 'day'), 'desc');
    for (const dim of dims.filter((d) => d !== 'day' && d !== 'hour')) query = query.orderBy(sql.ref(dim));
    const rows = (await query.execute()) as Record<string, unknown>[];
    return rows.map((row) => {
      const line: Record<string, unknown> = {};
      for (const dim of dims) line[dim] = row[dim] ?? null;
      return {
        ...line,
        requests: Number(row['requests']),
        failed: Number(row['failed']),
        promptTokens: Number(row['prompt_tokens']),
        completionTokens: Number(row['completion_tokens']),
        cachedTokens: Number(row['cached_tokens']),
        cost: Number(row['cost_nanos']) / 1e9,
        firstTokenMsP50: row['first_token_p50'] === null ? null : Number(row['first_token_p50']),
        durationMsP50: row['duration_p50'] === null ? null : Number(row['duration_p50']),
        feedbackScore: row['feedback_score'] === null ? null : Number(row['feedback_score']),
        feedbackCount: Number(row['feedback_count']),
      } as UsageLine;
    });
  }

  /** Keeps a rating of an answer; a later rating of the same answer replaces it. */
  async rate(feedback: Feedback): Promise<void> {
    const db = await this.ready();
    await db
      .insertInto('feedback')
      .values({ tenant_id: feedback.tenantId, task_id: feedback.taskId, key_id: feedback.keyId, user_id: feedback.userId, score: feedback.score, comment: feedback.comment, created_at: feedback.at, updated_at: feedback.at })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'task_id']).doUpdateSet((eb) => ({ score: eb.ref('excluded.score'), comment: eb.ref('excluded.comment'), key_id: eb.ref('excluded.key_id'), user_id: eb.ref('excluded.user_id'), updated_at: eb.ref('excluded.updated_at') })))
      .execute();
  }

  /** The user an answer was for and the key that asked, from its usage row (undefined: not in the ledger, or another tenant's). */
  async answer(tenantId: string, taskId: string): Promise<{ keyId: string; userId: string | null; status: string } | undefined> {
    const db = await this.ready();
    const row = await db.selectFrom('usage_events').select(['key_id', 'user_id', 'status']).where('tenant_id', '=', tenantId).where('task_id', '=', taskId).orderBy('occurred_at', 'desc').limit(1).executeTakeFirst();
    return row ? { keyId: row.key_id, userId: row.user_id, status: row.status } : undefined;
  }

  /** Drops the months that ended before `before` (whole partitions). Returns the tables dropped. */
  async prune(before: Date): Promise<string[]> {
    const db = await this.ready();
    const { rows } = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'usage_events'`.execute(db);
    const cutoff = monthOf(before).name;
    const old = rows.map((row) => row.name).filter((name) => /^usage_events_y\d{4}m\d{2}$/.test(name) && name < cutoff);
    for (const name of old) {
      await sql`DROP TABLE IF EXISTS ${sql.table(name)}`.execute(db);
      this.months.delete(name);
    }
    return old;
  }

  /** The partition of `at`'s month, and of the next one (so midnight at a month's end finds it). */
  private async ensureMonth(db: UsageDb, at: Date): Promise<void> {
    for (const month of [monthOf(at), monthOf(new Date(at.getTime() + MONTH_MS))]) {
      if (this.months.has(month.name)) continue;
      await sql`CREATE TABLE IF NOT EXISTS ${sql.table(month.name)} PARTITION OF usage_events FOR VALUES FROM (${sql.lit(month.from)}) TO (${sql.lit(month.to)})`.execute(db);
      this.months.add(month.name);
    }
  }
}
