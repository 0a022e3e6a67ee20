import { z } from 'zod';
import { rateLimitPolicySchema, type RateLimitPolicy } from './rate-limit-policy.schema.ts';
import { budgetsFor, spendBudgetSchema, type SpendBudget } from './spend-budget.schema.ts';

const modelPolicies = z.record(z.string().min(1), rateLimitPolicySchema);

/**
 * The `policies` run-time document: a platform default, per-model defaults, per-tenant policies
 * and per-tenant per-model policies. Resolution, most specific first: the key's own policy, the
 * tenant's policy for the model, the tenant's policy, the platform's policy for the model, the
 * platform default, the start-up default.
 */
export const policyDocumentSchema = z.strictObject({
  default: rateLimitPolicySchema.optional(),
  /** Model alias → policy, for every tenant without a policy of its own (an expensive model, say). */
  models: modelPolicies.default({}),
  tenants: z.record(z.string().min(1), rateLimitPolicySchema).default({}),
  /** Tenant → model alias → policy. */
  tenantModels: z.record(z.string().min(1), modelPolicies).default({}),
  /** Spend budgets of tenants, their keys and their models (every one that matches a request applies). */
  budgets: z
    .array(spendBudgetSchema)
    .max(10_000)
    .default([])
    .refine((budgets) => new Set(budgets.map((budget) => `${budget.tenantId}\u0000${budget.id}`)).size === budgets.length, 'budget ids must be unique within a tenant'),
});
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

export interface ResolvedPolicy {
  readonly policy: RateLimitPolicy;
  /** The spend budgets the request counts against (none: no budget check at all). */
  readonly budgets: readonly SpendBudget[];
  /**
   * True when the policy is model-specific: its limits then count the key's requests to that
   * model only (the counters are kept per key and model), not the key's whole traffic.
   */
  readonly perModel: boolean;
}

export function resolvePolicy(document: PolicyDocument | undefined, request: { tenantId: string; model: string; keyId?: string }, keyPolicy: RateLimitPolicy | undefined, fallback: RateLimitPolicy): ResolvedPolicy {
  const budgets = document && document.budgets.length > 0 && request.keyId !== undefined ? budgetsFor(document.budgets, { tenantId: request.tenantId, keyId: request.keyId, model: request.model }) : [];
  const resolve = (policy: RateLimitPolicy, perModel: boolean): ResolvedPolicy => ({ policy, perModel, budgets });
  if (keyPolicy) return resolve(keyPolicy, false);
  const tenantModel = document?.tenantModels[request.tenantId]?.[request.model];
  if (tenantModel) return resolve(tenantModel, true);
  const tenant = document?.tenants[request.tenantId];
  if (tenant) return resolve(tenant, false);
  const model = document?.models[request.model];
  if (model) return resolve(model, true);
  return resolve(document?.default ?? fallback, false);
}

/** The subject whose counters a decision uses: the key, or the key and model for a model-specific policy. */
export function limitSubject(keyId: string, model: string, resolved: ResolvedPolicy): string {
  return resolved.perModel ? `${keyId}|${model}` : keyId;
}
