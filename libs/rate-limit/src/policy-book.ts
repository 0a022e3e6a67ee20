import { policyDocumentSchema, resolvePolicy, type PolicyDocument, type ResolvedPolicy } from './policy-document.schema.ts';
import { rateLimitPolicySchema, type RateLimitPolicy } from './rate-limit-policy.schema.ts';
import type { SpendBudget } from './spend-budget.schema.ts';

/**
 * The limits in force: a default policy (the limiter's DEFAULT_POLICY), then the `policies`
 * run-time document (PUT /admin/config/policies), which a document watch applies within a second
 * of each change. The limiter and access's admission fast path each keep one.
 */
export class PolicyBook {
  private fallback: RateLimitPolicy;
  private document: PolicyDocument | undefined;

  constructor(defaultPolicy: string | RateLimitPolicy) {
    this.fallback = rateLimitPolicySchema.parse(typeof defaultPolicy === 'string' ? JSON.parse(defaultPolicy) : defaultPolicy);
  }

  /**
   * Takes a new version of the document (throws, keeping the previous one, when it is invalid);
   * null (the document was deleted) leaves the default policy alone in force.
   */
  apply(body: unknown): { tenants: number } {
    this.document = body === null ? undefined : policyDocumentSchema.parse(body);
    return { tenants: Object.keys(this.document?.tenants ?? {}).length };
  }

  /** Replaces the default policy (access takes the limiter's, from the admission terms). */
  setDefault(policy: RateLimitPolicy): void {
    this.fallback = policy;
  }

  /** The document's spend budgets (of one tenant, when named). */
  budgets(tenantId?: string): SpendBudget[] {
    return (this.document?.budgets ?? []).filter((budget) => tenantId === undefined || budget.tenantId === tenantId);
  }

  /** The key's own policy, else the most specific one of the document, else the default. */
  resolve(request: { tenantId: string; model: string; keyId?: string }, keyPolicy: RateLimitPolicy | undefined): ResolvedPolicy {
    return resolvePolicy(this.document, request, keyPolicy, this.fallback);
  }
}
