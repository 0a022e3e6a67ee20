import { policyDocumentSchema, rateLimitPolicySchema, resolvePolicy, type PolicyDocument, type RateLimitPolicy, type ResolvedPolicy } from '@aip/rate-limit';

/**
 * The limits in force: `DEFAULT_POLICY` at start, then the `policies` run-time document
 * (PUT /admin/config/policies), which a document watch applies within a second of each change.
 */
export class PolicyBook {
  private readonly fallback: RateLimitPolicy;
  private document: PolicyDocument | undefined;

  constructor(defaultPolicy: string) {
    this.fallback = rateLimitPolicySchema.parse(JSON.parse(defaultPolicy));
  }

  /** Takes a new version of the document (throws, keeping the previous one, when it is invalid). */
  apply(body: unknown): { tenants: number } {
    this.document = policyDocumentSchema.parse(body);
    return { tenants: Object.keys(this.document.tenants).length };
  }

  /** The key's own policy, else the most specific one of the document, else the default. */
  resolve(request: { tenantId: string; model: string }, keyPolicy: RateLimitPolicy | undefined): ResolvedPolicy {
    return resolvePolicy(this.document, request, keyPolicy, this.fallback);
  }
}
