import { z } from 'zod';

/**
 * A spend budget (the `budgets` of the `policies` document): at most `amountUsd` US dollars per
 * UTC day or month, for a tenant's whole traffic, one key of it, one model alias of it, or one
 * key's use of one alias. The hard limit is enforced at admission (an estimated cost reserved,
 * corrected by the real cost when the request ends); crossing `softPercent` of it publishes
 * `ai.budget.threshold` once per period.
 */
export const spendBudgetSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'budget id: letters, digits and . _ : - (max 64)'),
  tenantId: z.string().min(1).max(128),
  keyId: z.string().min(1).max(128).optional(),
  model: z.string().min(1).max(128).optional(),
  amountUsd: z.number().positive().finite(),
  period: z.enum(['day', 'month']),
  softPercent: z.number().min(1).max(100).default(80),
});
export type SpendBudget = z.infer<typeof spendBudgetSchema>;

/** What a budget covers, in words, for the refusal that names it. */
export function budgetScope(budget: SpendBudget): string {
  const parts = [`tenant ${budget.tenantId}`, budget.keyId ? `key ${budget.keyId}` : '', budget.model ? `model ${budget.model}` : ''].filter(Boolean);
  return parts.join(', ');
}

/** The period a time falls in: its id (for the counter's name), its start and its end (the reset), UTC. */
export function periodOf(period: SpendBudget['period'], nowMs: number): { id: string; startsAt: number; endsAt: number } {
  const now = new Date(nowMs);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  if (period === 'month') return { id: `${year}-${String(month + 1).padStart(2, '0')}`, startsAt: Date.UTC(year, month, 1), endsAt: Date.UTC(year, month + 1, 1) };
  const day = now.getUTCDate();
  return { id: `${year}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`, startsAt: Date.UTC(year, month, day), endsAt: Date.UTC(year, month, day + 1) };
}

/** The budgets that a request of this key to this model counts against. */
export function budgetsFor(budgets: readonly SpendBudget[], request: { tenantId: string; keyId: string; model: string }): SpendBudget[] {
  return budgets.filter((budget) => budget.tenantId === request.tenantId && (budget.keyId === undefined || budget.keyId === request.keyId) && (budget.model === undefined || budget.model === request.model));
}
