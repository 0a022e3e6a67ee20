import type { EventData } from '@aip/contracts';
import type { ApiKeyRecord } from '@aip/keys';
import type { EventPublisher } from '@aip/messaging';
import { PolicyBook, type AdmissionControl, type AdmissionGate, type AdmissionTerms, type AdmissionTermsValue, type AdmitResult, type DeadlineQueue } from '@aip/rate-limit';
import pino from 'pino';
import type { AccessEnv } from '../access.config.ts';
import { AdmissionFastPath } from './admission-fast-path.ts';

const TERMS: AdmissionTermsValue = { defaultPolicy: { id: 'limiter-default', requestsPerMinute: 60 }, checkWorkerCapacity: true, sessionAffinity: false, affinityMaxLoadGap: 2 };
const ADMITTED: AdmitResult = { admitted: true, reservationId: 'r-1', reservedTokens: 520, standing: { requests: { limit: 60, remaining: 59, resetMs: 1_000 } } };
const key: ApiKeyRecord = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-ab' };
const request = { taskId: 't-1', apiKeyId: 'k1', model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }], maxTokens: 512, estimatedPromptTokens: 8, stream: true, priority: 5, deadline: new Date(Date.now() + 30_000).toISOString() } as EventData<'ai.request.submitted'>;

function setup(world: { terms?: AdmissionTermsValue | undefined; waiting?: number; decision?: AdmitResult; redisFails?: boolean; brokerFails?: boolean; enabled?: boolean } = {}) {
  const published: { type: string; data: Record<string, unknown> }[] = [];
  const released: string[] = [];
  const policies: string[] = [];
  const gate = {
    attempt: async (_tenant: string, _request: unknown, resolved: { policy: { id: string } }) => {
      if (world.redisFails) throw new Error('Connection is closed.');
      policies.push(resolved.policy.id);
      return { decision: world.decision ?? ADMITTED };
    },
  };
  const fastPath = new AdmissionFastPath(
    gate as unknown as AdmissionGate,
    { release: async (id: string) => (released.push(id), true) } as unknown as AdmissionControl,
    { read: async () => ('terms' in world ? world.terms : TERMS) } as unknown as AdmissionTerms,
    { size: async () => world.waiting ?? 0 } as unknown as DeadlineQueue,
    new PolicyBook({ id: 'placeholder' }),
    { publish: async (type: string, data: Record<string, unknown>) => {
      if (world.brokerFails) throw new Error('broker down');
      published.push({ type, data });
    } } as unknown as EventPublisher,
    { ADMISSION_FAST_PATH: world.enabled ?? true } as AccessEnv,
    pino({ level: 'silent' }),
  );
  return { admit: () => fastPath.admit(key, request, Date.now()), published, released, policies };
}

describe('AdmissionFastPath', () => {
  it('admits on the limiter\'s terms and sends the request straight to the workers, with its reservation and limits', async () => {
    const { admit, published, policies } = setup();
    await expect(admit()).resolves.toBe(true);
    expect(policies).toEqual(['limiter-default']);
    expect(published).toEqual([{ type: 'ai.request.admitted', data: expect.objectContaining({ request, reservationId: 'r-1', reservedTokens: 520, limits: ADMITTED.standing }) }]);
  });

  it.each([
    ['no limiter has stated its terms lately', { terms: undefined }],
    ['a request already waits in the limiter\'s queue (nobody overtakes it)', { waiting: 1 }],
    ['the limits do not admit it now (the limiter parks or refuses it)', { decision: { admitted: false, reason: 'rate_limited', retryAfterMs: 1_000, limit: 60, remaining: 0 } as AdmitResult }],
    ['Redis fails here', { redisFails: true }],
    ['the fast path is switched off', { enabled: false }],
  ])('hands the request to the limiter when %s, publishing nothing itself', async (_why, world) => {
    const { admit, published } = setup(world);
    await expect(admit()).resolves.toBe(false);
    expect(published).toEqual([]);
  });

  it('gives the reservation back when the admitted request cannot be published, and lets the caller answer 503', async () => {
    const { admit, released } = setup({ brokerFails: true });
    await expect(admit()).rejects.toThrow('broker down');
    expect(released).toEqual(['r-1']);
  });
});
