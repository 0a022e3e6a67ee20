import { z } from 'zod';
import { rateLimitPolicySchema, type RateLimitPolicy } from './rate-limit-policy.schema.ts';

/**
 * The `policies` run-time document: a platform default and per-tenant policies. A key's own
 * policy wins over its tenant's, which wins over the default.
 */
export const policyDocumentSchema = z.strictObject({
  default: rateLimitPolicySchema.optional(),
  tenants: z.record(z.string().min(1), rateLimitPolicySchema).default({}),
});
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;

export function resolvePolicy(document: PolicyDocument | undefined, tenantId: string, keyPolicy: RateLimitPolicy | undefined, fallback: RateLimitPolicy): RateLimitPolicy {
  return keyPolicy ?? document?.tenants[tenantId] ?? document?.default ?? fallback;
}
