import { useTestRedis } from '@aip/testing';
import { budgetsFor, spendBudgetSchema, SpendBudgets, usdToNanos, type SpendBudget } from './index.ts';

// Spend budgets on a real Redis, as two limiter replicas (two connections) use them.
const suite = useTestRedis('aip:rl:spend:it:');
const NOW = Date.UTC(2026, 11, 8, 12, 0, 0);
let n = 0;

function setup(...budgets: Partial<SpendBudget>[]) {
  const tenantId = `t${++n}`;
  const parsed = budgets.map((budget, i) => spendBudgetSchema.parse({ id: `b${i}`, tenantId, amountUsd: 1, period: 'month', ...budget }));
  return { tenantId, budgets: parsed, a: new SpendBudgets(suite.redis, suite.prefix), b: new SpendBudgets(suite.other, suite.prefix) };
}

describe('spend budgets', () => {
  it('reserves until the next estimate would go over, then refuses naming the budget and its reset', async () => {
    const { tenantId, budgets, a, b } = setup({ amountUsd: 1 });
    const cents30 = usdToNanos(0.3);
    for (const id of ['r1', 'r2', 'r3']) expect(await (id === 'r2' ? b : a).reserve(tenantId, id, budgets, cents30, NOW)).toMatchObject({ reserved: true });
    expect(await a.reserve(tenantId, 'r4', budgets, cents30, NOW)).toEqual({ reserved: false, budget: budgets[0], spentNanos: usdToNanos(0.9), resetsAt: Date.UTC(2027, 0, 1) });
    // A cheaper one still fits exactly.
    expect(await b.reserve(tenantId, 'r5', budgets, usdToNanos(0.1), NOW)).toMatchObject({ reserved: true });
    expect((await a.standing(budgets, NOW))[0]).toMatchObject({ period: '2026-12', spentNanos: usdToNanos(1) });
  });

  it('charges a redelivered reservation once, and corrects each reservation to the real cost once', async () => {
    const { tenantId, budgets, a } = setup({ amountUsd: 1 });
    await a.reserve(tenantId, 'r1', budgets, usdToNanos(0.5), NOW);
    await a.reserve(tenantId, 'r1', budgets, usdToNanos(0.5), NOW);
    expect((await a.standing(budgets, NOW))[0]!.spentNanos).toBe(usdToNanos(0.5));
    expect(await a.settle(tenantId, 'r1', usdToNanos(0.02))).toBe(true);
    expect(await a.settle(tenantId, 'r1', usdToNanos(0.02))).toBe(false);
    expect((await a.standing(budgets, NOW))[0]!.spentNanos).toBe(usdToNanos(0.02));
  });

  it('checks every budget of the request at once: one over refuses, and none is charged', async () => {
    const { tenantId, budgets, a } = setup({ amountUsd: 10 }, { amountUsd: 1, keyId: 'k1' }, { amountUsd: 5, model: 'smart' });
    const mine = budgetsFor(budgets, { tenantId, keyId: 'k1', model: 'smart' });
    expect(mine.map((budget) => budget.id)).toEqual(['b0', 'b1', 'b2']);
    const refused = await a.reserve(tenantId, 'r1', mine, usdToNanos(2), NOW);
    expect(refused).toMatchObject({ reserved: false, budget: { id: 'b1', keyId: 'k1' } });
    expect((await a.standing(budgets, NOW)).map((standing) => standing.spentNanos)).toEqual([0, 0, 0]);
    // Another key of the tenant is not bound by k1's budget.
    expect(await a.reserve(tenantId, 'r2', budgetsFor(budgets, { tenantId, keyId: 'k2', model: 'smart' }), usdToNanos(2), NOW)).toMatchObject({ reserved: true });
  });

  it('reports the soft limit once per period, and starts each period from zero', async () => {
    const { tenantId, budgets, a } = setup({ amountUsd: 1, period: 'day', softPercent: 50 });
    expect(await a.reserve(tenantId, 'r1', budgets, usdToNanos(0.4), NOW)).toEqual({ reserved: true, crossed: [] });
    expect(await a.reserve(tenantId, 'r2', budgets, usdToNanos(0.2), NOW)).toEqual({ reserved: true, crossed: [budgets[0]] });
    expect(await a.reserve(tenantId, 'r3', budgets, usdToNanos(0.2), NOW)).toEqual({ reserved: true, crossed: [] });
    expect(await a.reserve(tenantId, 'r4', budgets, usdToNanos(0.3), NOW)).toMatchObject({ reserved: false, resetsAt: Date.UTC(2026, 11, 9) });
    const tomorrow = NOW + 86_400_000;
    expect(await a.reserve(tenantId, 'r5', budgets, usdToNanos(0.9), tomorrow)).toEqual({ reserved: true, crossed: [budgets[0]] });
    expect((await a.standing(budgets, tomorrow))[0]).toMatchObject({ period: '2026-12-09', spentNanos: usdToNanos(0.9) });
  });

  it('never lets concurrent reservations of two replicas go over', async () => {
    const { tenantId, budgets, a, b } = setup({ amountUsd: 1 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve(tenantId, `r${i}`, budgets, usdToNanos(0.07), NOW)));
    expect(results.filter((result) => result.reserved)).toHaveLength(14);
    expect((await a.standing(budgets, NOW))[0]!.spentNanos).toBe(usdToNanos(0.98));
  });
});

describe('spend budgets after a Redis loss', () => {
  it('take their counter up to the ledger once per period, never lowering it', async () => {
    const { tenantId, budgets, a } = setup({ amountUsd: 1 });
    const [budget] = budgets;
    expect(await a.seeded(budget!, NOW)).toBe(false);
    // Redis lost everything; a request reserved since: $0.10. The ledger says $0.50 was spent.
    await a.reserve(tenantId, 'after-loss', budgets, usdToNanos(0.1), NOW);
    expect(await a.seed(budget!, usdToNanos(0.5), NOW)).toBe(true);
    expect((await a.standing(budgets, NOW))[0]!.spentNanos).toBe(usdToNanos(0.5));
    // Once per period: a later seed changes nothing, and a lower ledger figure never lowers it.
    expect(await a.seed(budget!, usdToNanos(0.9), NOW)).toBe(false);
    expect(await a.seeded(budget!, NOW)).toBe(true);
    const { budgets: others, a: b, tenantId: other } = setup({ amountUsd: 1 });
    await b.reserve(other, 'r', others, usdToNanos(0.3), NOW);
    await b.seed(others[0]!, usdToNanos(0.1), NOW);
    expect((await b.standing(others, NOW))[0]!.spentNanos).toBe(usdToNanos(0.3));
  });
});
