import type { Redis } from 'ioredis';
import { assertId, defineScript, replyArray, replyNumber, type ScriptCall } from './redis-script.ts';
import { periodOf, type SpendBudget } from './spend-budget.schema.ts';

/**
 * Reserves an estimated cost against every budget of a request at once, or none: a budget that
 * would go over refuses the request, and nothing is charged. The reservation is kept (so a
 * redelivery charges once, and the end of the request corrects it), and a budget whose spend
 * crosses its soft limit for the first time in its period is reported once (a marker per period).
 * Every key is under the tenant's hash tag: one slot on a Redis Cluster.
 *
 * KEYS: 1 reservation, 2.. one counter per budget (the budget's period in its name)
 * ARGV: 1 estimate (nano-dollars) 2 reservation ttl ms, then per budget: limit, soft limit, counter ttl ms
 * Reply: {1, crossed budget indexes...} or {0, refusing budget index, spent}
 */
const RESERVE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local estimate = tonumber(ARGV[1])
local n = #KEYS - 1
local spent = {}
for i = 1, n do
  spent[i] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if spent[i] + estimate > tonumber(ARGV[3 * i]) then return {0, i, string.format('%d', spent[i])} end
end
local crossed = {1}
local counters = {}
for i = 1, n do
  local key = KEYS[i + 1]
  local after = redis.call('INCRBY', key, estimate)
  redis.call('PEXPIRE', key, ARGV[3 * i + 2])
  local soft = tonumber(ARGV[3 * i + 1])
  if spent[i] < soft and after >= soft and redis.call('SET', key .. ':soft', '1', 'NX', 'PX', ARGV[3 * i + 2]) then
    crossed[#crossed + 1] = i
  end
  counters[#counters + 1] = key
end
redis.call('HSET', KEYS[1], 'n', string.format('%d', estimate), 'c', table.concat(counters, ' '))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return crossed
`;

/**
 * Replaces a reservation's estimate by the real cost in each budget it was charged to (never
 * below 0), once. The counters it names share the reservation's hash tag.
 *
 * KEYS: 1 reservation   ARGV: 1 actual (nano-dollars)
 * Reply: 1, or 0 when there was no such reservation (settled already, expired, or never made)
 */
const SETTLE_LUA = `
local r = redis.call('HMGET', KEYS[1], 'n', 'c')
if not r[1] then return 0 end
local delta = tonumber(ARGV[1]) - tonumber(r[1])
for key in string.gmatch(r[2] or '', '%S+') do
  if redis.call('EXISTS', key) == 1 then
    local after = redis.call('INCRBY', key, delta)
    if after < 0 then redis.call('INCRBY', key, -after) end
  end
end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * After a Redis loss, a budget's counter is taken up again from the usage ledger: once per budget
 * and period (a marker that is lost with the counter), the counter becomes at least what the
 * ledger has recorded for the period. Never lowers it; what requests reserved between the loss
 * and this seed may be counted twice or not at all until they settle — the bound is documented.
 *
 * KEYS: 1 counter, 2 marker   ARGV: 1 ledger spend (nano-dollars) 2 ttl ms
 * Reply: 1 seeded now, 0 already seeded this period
 */
const SEED_LUA = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local ledger = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if ledger > current then redis.call('INCRBY', KEYS[1], ledger - current) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 1
`;

const DAY_MS = 86_400_000;
/** A reservation outlives the longest request by far; a lost end leaves its estimate charged (over-counting, never under). */
const RESERVATION_TTL_MS = DAY_MS;

export type BudgetReservation = { reserved: true; crossed: SpendBudget[] } | { reserved: false; budget: SpendBudget; spentNanos: number; resetsAt: number };

export interface BudgetStanding {
  budget: SpendBudget;
  period: string;
  spentNanos: number;
  resetsAt: number;
}

export const usdToNanos = (usd: number): number => Math.round(usd * 1e9);

/** Spend budgets in Redis (the `budgets` of the `policies` document); see RESERVE_LUA. */
export class SpendBudgets {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly reserveScript: ScriptCall;
  private readonly settleScript: ScriptCall;
  private readonly seedScript: ScriptCall;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    // As many counters as budgets: the caller gives the key count with each call.
    redis.defineCommand('aipSpendReserve', { lua: RESERVE_LUA });
    const reserve = (redis as unknown as { aipSpendReserve: ScriptCall }).aipSpendReserve;
    this.reserveScript = (...keysThenArgs) => reserve.apply(redis, keysThenArgs);
    this.settleScript = defineScript(redis, 'aipSpendSettle', 1, SETTLE_LUA);
    this.seedScript = defineScript(redis, 'aipSpendSeed', 2, SEED_LUA);
  }

  private tag(tenantId: string): string {
    return `${this.prefix}{spend:${tenantId}}`;
  }

  private counter(budget: SpendBudget, nowMs: number): string {
    return `${this.tag(budget.tenantId)}:${budget.id}:${periodOf(budget.period, nowMs).id}`;
  }

  /** Reserves `estimateNanos` against every budget given (all of one tenant), or refuses with the first that would go over. */
  async reserve(tenantId: string, reservationId: string, budgets: readonly SpendBudget[], estimateNanos: number, nowMs = Date.now()): Promise<BudgetReservation> {
    assertId('tenantId', tenantId);
    assertId('reservationId', reservationId);
    if (budgets.length === 0) return { reserved: true, crossed: [] };
    if (!Number.isSafeInteger(estimateNanos) || estimateNanos < 0) throw new RangeError(`estimateNanos must be a non-negative integer, got ${estimateNanos}`);
    if (budgets.some((budget) => budget.tenantId !== tenantId)) throw new Error('a reservation covers the budgets of one tenant');
    const args = budgets.flatMap((budget) => {
      const limit = usdToNanos(budget.amountUsd);
      const ttl = periodOf(budget.period, nowMs).endsAt - nowMs + DAY_MS;
      return [limit, Math.floor((limit * budget.softPercent) / 100), ttl];
    });
    const keys = budgets.map((budget) => this.counter(budget, nowMs));
    const reply = replyArray(await this.reserveScript(1 + keys.length, `${this.tag(tenantId)}:res:${reservationId}`, ...keys, estimateNanos, RESERVATION_TTL_MS, ...args), 'spend reserve');
    if (replyNumber(reply[0], 'spend reserve') === 1) return { reserved: true, crossed: reply.slice(1).map((index) => budgets[replyNumber(index, 'crossed') - 1]!) };
    const budget = budgets[replyNumber(reply[1], 'spend refusal') - 1]!;
    return { reserved: false, budget, spentNanos: replyNumber(reply[2], 'spent'), resetsAt: periodOf(budget.period, nowMs).endsAt };
  }

  /** Corrects a reservation to the real cost; false when there was none (settled already, or nothing was reserved). */
  async settle(tenantId: string, reservationId: string, actualNanos: number): Promise<boolean> {
    assertId('tenantId', tenantId);
    assertId('reservationId', reservationId);
    if (!Number.isSafeInteger(actualNanos) || actualNanos < 0) throw new RangeError(`actualNanos must be a non-negative integer, got ${actualNanos}`);
    return replyNumber(await this.settleScript(`${this.tag(tenantId)}:res:${reservationId}`, actualNanos), 'spend settle') === 1;
  }

  /** Whether a budget's counter was taken up from the ledger this period (false after a Redis loss, or in a new period). */
  async seeded(budget: SpendBudget, nowMs = Date.now()): Promise<boolean> {
    return (await this.redis.exists(`${this.counter(budget, nowMs)}:seeded`)) === 1;
  }

  /** Takes the counter up to the ledger's spend for the period, once per period (see SEED_LUA); true when it did now. */
  async seed(budget: SpendBudget, ledgerNanos: number, nowMs = Date.now()): Promise<boolean> {
    const counter = this.counter(budget, nowMs);
    const ttl = periodOf(budget.period, nowMs).endsAt - nowMs + DAY_MS;
    return replyNumber(await this.seedScript(counter, `${counter}:seeded`, Math.max(0, Math.round(ledgerNanos)), ttl), 'spend seed') === 1;
  }

  /** What each budget has spent in its current period (reservations included). */
  async standing(budgets: readonly SpendBudget[], nowMs = Date.now()): Promise<BudgetStanding[]> {
    if (budgets.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const budget of budgets) pipeline.get(this.counter(budget, nowMs));
    const replies = (await pipeline.exec()) ?? [];
    return budgets.map((budget, index) => {
      const [error, value] = replies[index] ?? [null, null];
      if (error) throw error;
      const period = periodOf(budget.period, nowMs);
      return { budget, period: period.id, spentNanos: Number(value ?? 0), resetsAt: period.endsAt };
    });
  }
}
