import { z } from 'zod';

/**
 * Limits of one API key. Strict: a misspelt limit (`tokensPerMin`) would otherwise be dropped and
 * silently never enforced.
 */
export const rateLimitPolicySchema = z
  .strictObject({
    id: z.string().min(1),
    /** Smooth token bucket: refills requestsPerMinute / 60 per second. Fractions allowed (0.5 = one per 2 min). */
    requestsPerMinute: z.number().positive().finite().optional(),
    /** Bucket size, i.e. how many requests may arrive at once after a quiet spell. Default: requestsPerMinute. */
    burst: z.number().int().positive().optional(),
    /** Fixed window per UTC day. */
    requestsPerDay: z.number().int().positive().optional(),
    /** Reserved (estimated prompt + max_tokens) tokens in a sliding 60 s window, corrected by reconcile. */
    tokensPerMinute: z.number().int().positive().optional(),
    /** Requests of this key admitted and not yet reconciled/released/expired. */
    maxConcurrent: z.number().int().positive().optional(),
    /** Same across all keys: this policy admits only while fewer than this many are in flight in total. */
    globalMaxConcurrent: z.number().int().positive().optional(),
  })
  .refine((policy) => policy.burst === undefined || policy.requestsPerMinute !== undefined, {
    message: 'burst needs requestsPerMinute',
    path: ['burst'],
  });

export type RateLimitPolicy = z.infer<typeof rateLimitPolicySchema>;

/** Script arguments of a policy, in the order admission.lua.ts reads them; '' = no such limit. */
export type PolicyArgs = readonly [rpm: string, burst: string, rpd: string, tpm: string, maxConcurrent: string, globalMaxConcurrent: string];

// Policies come from config and are reused for every request of a key: validate each object once.
const compiled = new WeakMap<RateLimitPolicy, PolicyArgs>();

const arg = (value: number | undefined) => (value === undefined ? '' : String(value));

/** Validates (once per policy object; treat policies as immutable) and encodes for the admit script. */
export function compilePolicy(policy: RateLimitPolicy): PolicyArgs {
  const cached = compiled.get(policy);
  if (cached) return cached;
  const valid = rateLimitPolicySchema.parse(policy);
  const args: PolicyArgs = [
    arg(valid.requestsPerMinute),
    arg(valid.burst),
    arg(valid.requestsPerDay),
    arg(valid.tokensPerMinute),
    arg(valid.maxConcurrent),
    arg(valid.globalMaxConcurrent),
  ];
  compiled.set(policy, args);
  return args;
}
