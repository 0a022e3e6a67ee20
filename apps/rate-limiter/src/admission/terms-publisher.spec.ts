import type { AdmissionTerms, AdmissionTermsValue } from '@aip/rate-limit';
import type { Logger } from 'pino';
import { rateLimiterEnvSchema } from '../rate-limiter.config.ts';
import { TermsPublisher } from './terms-publisher.ts';

function setup(env: Record<string, string>) {
  const written: { terms: AdmissionTermsValue; ttlMs: number }[] = [];
  const redis = { down: false };
  const terms = {
    publish: async (value: AdmissionTermsValue, ttlMs: number) => {
      if (redis.down) throw new Error('Connection is closed.');
      written.push({ terms: value, ttlMs });
    },
  };
  const said: string[] = [];
  const logger = { info: (message: string) => said.push(`info ${message}`), warn: (_fields: unknown, message: string) => said.push(`warn ${message}`) };
  const publisher = new TermsPublisher(terms as unknown as AdmissionTerms, rateLimiterEnvSchema.parse(env), logger as unknown as Logger);
  return { publisher, written, redis, said };
}

describe('TermsPublisher', () => {
  it('states the limiter\'s own admission settings for access, with a lifetime a few refreshes long', async () => {
    const { publisher, written } = setup({ DEFAULT_POLICY: '{"id":"house","requestsPerMinute":120}', SESSION_AFFINITY: 'true', AFFINITY_MAX_LOAD_GAP: '4', CHECK_WORKER_CAPACITY: 'false' });
    await publisher.onApplicationBootstrap();
    publisher.onApplicationShutdown();
    expect(written).toEqual([{ terms: { defaultPolicy: { id: 'house', requestsPerMinute: 120 }, checkWorkerCapacity: false, sessionAffinity: true, affinityMaxLoadGap: 4 }, ttlMs: expect.any(Number) }]);
    expect(written[0]!.ttlMs).toBeGreaterThanOrEqual(3 * 2_000);
  });

  it('says once that Redis refuses the terms, and once that they are stated again, not on every refresh', async () => {
    const { publisher, redis, said } = setup({});
    redis.down = true;
    await publisher.onApplicationBootstrap();
    publisher.onApplicationShutdown();
    await (publisher as unknown as { publish(): Promise<void> }).publish();
    redis.down = false;
    await (publisher as unknown as { publish(): Promise<void> }).publish();
    await (publisher as unknown as { publish(): Promise<void> }).publish();
    expect(said).toEqual([expect.stringMatching(/^warn could not publish the admission terms/), 'info admission terms published again: access admits directly']);
  });
});
