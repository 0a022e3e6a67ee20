import type { EventData } from '@aip/contracts';
import { AdmissionFastPath } from './admission-fast-path.ts';
import type { AdmissionControl } from './admission-control.ts';
import type { AdmissionGate } from './admission-gate.ts';
import type { AdmissionTerms, AdmissionTermsValue } from './admission-terms.ts';
import type { AdmitResult } from './admission.types.ts';
import type { DeadlineQueue } from './deadline-queue.ts';
import { PolicyBook } from './policy-book.ts';

const TERMS: AdmissionTermsValue = { defaultPolicy: { id: 'limiter-default', requestsPerMinute: 60 }, checkWorkerCapacity: true, sessionAffinity: false, affinityMaxLoadGap: 2 };
const ADMITTED: AdmitResult = { admitted: true, reservationId: 'r-1', reservedTokens: 520, standing: { requests: { limit: 60, remaining: 59, resetMs: 1_000 } } };
const request = { taskId: 't-1', apiKeyId: 'k1', model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }], maxTokens: 512, estimatedPromptTokens: 8, stream: true, priority: 5, deadline: new Date(Date.now() + 30_000).toISOString() } as EventData<'ai.request.submitted'>;

function setup(world: { terms?: AdmissionTermsValue | undefined; waiting?: number; decision?: AdmitResult; redisFails?: boolean; brokerFails?: boolean; enabled?: boolean; keyPolicy?: unknown; budgets?: unknown[] } = {}) {
  const published: { data: Record<string, unknown>; lane: number | undefined }[] = [];
  const released: string[] = [];
  const policies: string[] = [];
  const warnings: string[] = [];
  const gate = {
    capacity: async () => 4,
    attempt: async (_tenant: string, _request: unknown, resolved: { policy: { id: string } }) => {
      if (world.redisFails) throw new Error('Connection is closed.');
      policies.push(resolved.policy.id);
      return { decision: world.decision ?? ADMITTED };
    },
  };
  const fastPath = new AdmissionFastPath({
    gate: gate as unknown as AdmissionGate,
    control: { release: async (id: string) => (released.push(id), true) } as unknown as AdmissionControl,
    terms: { read: async () => ('terms' in world ? world.terms : TERMS) } as unknown as AdmissionTerms,
    queue: { size: async () => world.waiting ?? 0 } as unknown as DeadlineQueue,
    policies: new PolicyBook({ id: 'placeholder' }),
    enabled: world.enabled ?? true,
    warn: (_fields, message) => warnings.push(message),
  });
  const publish = async (data: Record<string, unknown>, lane: number | undefined) => {
    if (world.brokerFails) throw new Error('broker down');
    published.push({ data, lane });
  };
  if (world.budgets) (fastPath as unknown as { parts: { policies: PolicyBook } }).parts.policies.apply({ budgets: world.budgets });
  const admit = () => fastPath.admit({ tenantId: 'acme', ...(world.keyPolicy ? { policy: world.keyPolicy } : {}) }, request, Date.now(), publish);
  return { admit, published, released, policies, warnings };
}

describe('AdmissionFastPath', () => {
  it('admits on the limiter\'s terms and sends the request straight to the workers, with its reservation and limits', async () => {
    const { admit, published, policies } = setup();
    await expect(admit()).resolves.toEqual({ admitted: true, reason: '' });
    expect(policies).toEqual(['limiter-default']);
    expect(published).toEqual([{ data: expect.objectContaining({ request, reservationId: 'r-1', reservedTokens: 520, limits: ADMITTED.standing }), lane: undefined }]);
  });

  it('uses the key\'s own policy over the limiter\'s default', async () => {
    const { admit, policies } = setup({ keyPolicy: { id: 'own', requestsPerMinute: 5 } });
    await admit();
    expect(policies).toEqual(['own']);
  });

  it.each([
    ['no limiter has stated its terms lately', { terms: undefined }, 'no_terms'],
    ['a request already waits in the limiter\'s queue (nobody overtakes it)', { waiting: 1 }, 'queue_not_empty'],
    ['the limits do not admit it now (the limiter parks or refuses it)', { decision: { admitted: false, reason: 'rate_limited', retryAfterMs: 1_000, limit: 60, remaining: 0 } as AdmitResult }, 'rate_limited'],
    ['Redis fails here', { redisFails: true }, 'error'],
    ['the fast path is switched off', { enabled: false }, 'disabled'],
    ['a spend budget covers it (money is the limiter\'s alone)', { budgets: [{ id: 'b', tenantId: 'acme', amountUsd: 5, period: 'day' }] }, 'budgeted'],
  ])('hands the request to the limiter when %s, publishing nothing itself', async (_why, world, reason) => {
    const { admit, published } = setup(world);
    await expect(admit()).resolves.toEqual({ admitted: false, reason });
    expect(published).toEqual([]);
  });

  it('gives the reservation back when the admitted request cannot be published, and lets the caller answer 503', async () => {
    const { admit, released } = setup({ brokerFails: true });
    await expect(admit()).rejects.toThrow('broker down');
    expect(released).toEqual(['r-1']);
  });
});
