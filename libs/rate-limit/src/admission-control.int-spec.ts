import { useTestRedis } from '@aip/testing';
import { AdmissionControl, type AdmitInput, type AdmitResult, type RateLimitPolicy } from './index.ts';

// Every test gets its own key prefix under the suite's; afterAll deletes exactly those keys.
const suite = useTestRedis('aip:rl:it:');
let n = 0;

/** A fresh limiter namespace (and, optionally, a second limiter on another connection: another replica). */
function limiters(options: { reservationTtlMs?: number } = {}) {
  const prefix = `${suite.prefix}${++n}:`;
  return { a: new AdmissionControl(suite.redis, { prefix, ...options }), b: new AdmissionControl(suite.other, { prefix, ...options }) };
}

// A realistic clock, 0.5 s into a second, injected so the tests never sleep.
const T = Math.floor(Date.now() / 1000) * 1000 + 500;
let r = 0;
function request(policy: RateLimitPolicy, extra: Partial<AdmitInput> = {}): AdmitInput {
  return { requestId: `req-${++r}`, tenantId: 'acme', keyId: 'key-1', model: 'gpt-x', tokens: 100, policy, nowMs: T, ...extra };
}

function admitted(result: AdmitResult): string {
  if (!result.admitted) throw new Error(`expected admission, got ${JSON.stringify(result)}`);
  return result.reservationId;
}

function rejected(result: AdmitResult) {
  if (result.admitted) throw new Error(`expected rejection, got ${JSON.stringify(result)}`);
  return result;
}

describe('AdmissionControl (real Redis)', () => {
  it('admits exactly N of 100 concurrent requests across two replicas (requestsPerMinute = 10)', async () => {
    const { a, b } = limiters();
    const policy = { id: 'rpm10', requestsPerMinute: 10 };
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).admit(request(policy))));
    const ok = results.filter((result) => result.admitted);
    expect(ok).toHaveLength(10);
    const no = results.filter((result) => !result.admitted).map(rejected);
    expect(no).toHaveLength(90);
    for (const result of no) {
      expect(result.reason).toBe('rate_limited');
      // 10 per minute = one token every 6 s, and the bucket is exactly empty.
      expect(result.retryAfterMs).toBe(6_000);
      expect(result).toMatchObject({ limit: 10, remaining: 0 });
    }
    expect((await a.usage('key-1', T)).requestTokensLeft).toBe(0);
  });

  it('says where the key\'s limits stand after each admission (OpenAI\'s x-ratelimit-* figures)', async () => {
    const { a } = limiters();
    const policy = { id: 'both', requestsPerMinute: 60, tokensPerMinute: 1_000 };
    const first = await a.admit(request(policy, { keyId: 'standing' }));
    // A full bucket of 60 less this request; refilled one request per second, so full again in 1 s.
    // 100 of 1,000 tokens used; they leave the window 60 s after the second they were charged to.
    expect(first).toMatchObject({ admitted: true, standing: { requests: { limit: 60, remaining: 59, resetMs: 1_000 }, tokens: { limit: 1_000, remaining: 900, resetMs: 59_500 } } });
    const second = await a.admit(request(policy, { keyId: 'standing' }));
    expect(second).toMatchObject({ standing: { requests: { remaining: 58, resetMs: 2_000 }, tokens: { remaining: 800 } } });
    // A key without such limits gets none.
    expect(await a.admit(request({ id: 'open' }, { keyId: 'open' }))).toMatchObject({ admitted: true, standing: {} });
  });

  it('holds token and concurrency limits exactly under concurrency too', async () => {
    const { a, b } = limiters();
    const tpm = { id: 'tpm', tokensPerMinute: 1_000 };
    const byTokens = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).admit(request(tpm, { keyId: 'tok' }))));
    expect(byTokens.filter((result) => result.admitted)).toHaveLength(10);
    const conc = { id: 'conc', maxConcurrent: 7 };
    const bySlots = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).admit(request(conc, { keyId: 'conc' }))));
    expect(bySlots.filter((result) => result.admitted)).toHaveLength(7);
    expect((await a.usage('tok', T)).tokensLastMinute).toBe(1_000);
    expect((await b.usage('conc', T)).concurrent).toBe(7);
  });

  it('refills the token bucket smoothly and caps it at burst', async () => {
    const { a } = limiters();
    const policy = { id: 'rpm60', requestsPerMinute: 60, burst: 3 };
    for (let i = 0; i < 3; i++) admitted(await a.admit(request(policy)));
    expect(rejected(await a.admit(request(policy))).retryAfterMs).toBe(1_000);
    expect(rejected(await a.admit(request(policy, { nowMs: T + 999 }))).retryAfterMs).toBe(1);
    admitted(await a.admit(request(policy, { nowMs: T + 1_000 })));
    expect(rejected(await a.admit(request(policy, { nowMs: T + 1_000 }))).retryAfterMs).toBe(1_000);
    // Half a token refilled: the hint says exactly when the next whole one is there.
    const half = rejected(await a.admit(request(policy, { nowMs: T + 1_500 })));
    expect(half.retryAfterMs).toBe(500);
    admitted(await a.admit(request(policy, { nowMs: T + 1_500 + half.retryAfterMs })));
    // A long quiet spell refills only up to the burst.
    const later = T + 3_600_000;
    for (let i = 0; i < 3; i++) admitted(await a.admit(request(policy, { nowMs: later })));
    rejected(await a.admit(request(policy, { nowMs: later })));
  });

  it('has no rounding gap with rates that do not divide a minute (7 per minute)', async () => {
    const { a } = limiters();
    const policy = { id: 'rpm7', requestsPerMinute: 7, burst: 1 };
    admitted(await a.admit(request(policy)));
    const wait = rejected(await a.admit(request(policy))).retryAfterMs;
    expect(wait).toBe(Math.ceil(60_000 / 7));
    rejected(await a.admit(request(policy, { nowMs: T + wait - 1 })));
    admitted(await a.admit(request(policy, { nowMs: T + wait })));
  });

  it('counts requests per UTC day and opens again at midnight', async () => {
    const { a } = limiters();
    const policy = { id: 'rpd3', requestsPerDay: 3 };
    const midnight = Math.floor(T / 86_400_000) * 86_400_000 + 86_400_000;
    const lateEvening = midnight - 60_000;
    for (let i = 0; i < 3; i++) await a.reconcile(admitted(await a.admit(request(policy, { nowMs: lateEvening }))), 10, lateEvening);
    const no = rejected(await a.admit(request(policy, { nowMs: lateEvening })));
    expect(no).toMatchObject({ reason: 'rate_limited', retryAfterMs: 60_000, limit: 3, remaining: 0 });
    expect((await a.usage('key-1', lateEvening)).requestsToday).toBe(3);
    admitted(await a.admit(request(policy, { nowMs: midnight })));
    expect((await a.usage('key-1', midnight)).requestsToday).toBe(1);
  });

  it('reserves tokens at admission; reconcile with smaller actual usage frees budget for the next request', async () => {
    const { a } = limiters();
    const policy = { id: 'tpm1000', tokensPerMinute: 1_000 };
    const first = admitted(await a.admit(request(policy, { tokens: 600 })));
    const blocked = rejected(await a.admit(request(policy, { tokens: 600 })));
    // The 600 reserved at T leave the window 60 s after their second began.
    expect(blocked).toMatchObject({ reason: 'token_budget_exceeded', limit: 1_000, remaining: 400, retryAfterMs: 59_500 });
    expect(await a.reconcile(first, 150, T + 10)).toEqual({ applied: true, reservedTokens: 600, actualTokens: 150 });
    expect((await a.usage('key-1', T + 10)).tokensLastMinute).toBe(150);
    admitted(await a.admit(request(policy, { tokens: 600, nowMs: T + 20 })));
    expect((await a.usage('key-1', T + 20)).tokensLastMinute).toBe(750);
  });

  it('slides the TPM window: budget frees when the seconds that used it leave the window', async () => {
    const { a } = limiters();
    const policy = { id: 'tpm', tokensPerMinute: 1_000 };
    admitted(await a.admit(request(policy, { tokens: 300 })));
    admitted(await a.admit(request(policy, { tokens: 500, nowMs: T + 20_000 })));
    // Needs 400 back: the oldest 300 are not enough, it must wait for the 500 charged at T + 20 s.
    const wait = rejected(await a.admit(request(policy, { tokens: 600, nowMs: T + 30_000 })));
    expect(wait.retryAfterMs).toBe(T - 500 + 80_000 - (T + 30_000));
    rejected(await a.admit(request(policy, { tokens: 600, nowMs: T + 30_000 + wait.retryAfterMs - 1 })));
    admitted(await a.admit(request(policy, { tokens: 600, nowMs: T + 30_000 + wait.retryAfterMs })));
  });

  it('says a request larger than the whole TPM limit will never fit', async () => {
    const { a } = limiters();
    const no = rejected(await a.admit(request({ id: 'tpm', tokensPerMinute: 1_000 }, { tokens: 1_001 })));
    expect(no).toMatchObject({ reason: 'token_budget_exceeded', retryAfterMs: -1, limit: 1_000, remaining: 1_000 });
  });

  it('reconcile never takes the window below zero and charges overruns', async () => {
    const { a } = limiters();
    const policy = { id: 'tpm', tokensPerMinute: 1_000 };
    const small = admitted(await a.admit(request(policy, { tokens: 100 })));
    const big = admitted(await a.admit(request(policy, { tokens: 200 })));
    await a.reconcile(big, 700, T);
    expect((await a.usage('key-1', T)).tokensLastMinute).toBe(800);
    // Someone else's correction took the second down already; this one must not go negative.
    await suite.redis.hset(`${suite.prefix}${n}:{k:key-1}:state`, String(Math.floor(T / 1000)), '50');
    await a.reconcile(small, 0, T);
    expect((await a.usage('key-1', T)).tokensLastMinute).toBe(0);
  });

  it('caps concurrency per key; release frees the slot and is idempotent', async () => {
    const { a } = limiters();
    const policy = { id: 'c2', maxConcurrent: 2 };
    const one = admitted(await a.admit(request(policy)));
    admitted(await a.admit(request(policy)));
    const full = rejected(await a.admit(request(policy)));
    expect(full).toMatchObject({ reason: 'concurrency_limit', limit: 2, remaining: 0, retryAfterMs: 1_000 });
    expect(await a.release(one, T)).toBe(true);
    expect(await a.release(one, T)).toBe(false);
    expect((await a.reconcile(one, 10, T)).applied).toBe(false);
    expect((await a.reconcile('never-issued', 10, T)).applied).toBe(false);
    expect((await a.reconcile('aw.unknown', 10, T)).applied).toBe(false);
    admitted(await a.admit(request(policy)));
    rejected(await a.admit(request(policy)));
  });

  it('caps concurrency across keys with globalMaxConcurrent', async () => {
    const { a, b } = limiters();
    const policy = { id: 'g', globalMaxConcurrent: 3 };
    const results = await Promise.all(['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].map((keyId, i) => (i % 2 ? a : b).admit(request(policy, { keyId }))));
    expect(results.filter((result) => result.admitted)).toHaveLength(3);
    expect(results.filter((result) => !result.admitted).map(rejected).every((result) => result.reason === 'concurrency_limit')).toBe(true);
  });

  it('never leaks slots of a crashed worker: expired leases stop counting and expireStale reclaims them', async () => {
    const { a, b } = limiters({ reservationTtlMs: 60_000 });
    const policy = { id: 'c1', maxConcurrent: 1, tokensPerMinute: 10_000 };
    const crashed = admitted(await a.admit(request(policy)));
    const stillFull = rejected(await a.admit(request(policy, { nowMs: T + 30_000 })));
    // The earliest lease ends in 30 s, but polling sooner is the better hint.
    expect(stillFull.retryAfterMs).toBe(1_000);
    expect(rejected(await a.admit(request(policy, { nowMs: T + 59_500 }))).retryAfterMs).toBe(500);
    expect(await a.expireStale(T + 59_999)).toBe(0);
    // Two sweepers at once count each reservation once.
    const swept = await Promise.all([a.expireStale(T + 60_000), b.expireStale(T + 60_000)]);
    expect(swept[0] + swept[1]).toBe(1);
    expect((await a.usage('key-1', T + 60_000)).concurrent).toBe(0);
    expect((await a.usage('key-1', T + 60_000)).globalConcurrent).toBe(0);
    admitted(await a.admit(request(policy, { nowMs: T + 60_000 })));
    // The late worker's reconcile still corrects tokens and frees nothing it does not own.
    expect((await a.reconcile(crashed, 0, T + 60_000)).applied).toBe(true);
    expect((await a.usage('key-1', T + 60_000)).concurrent).toBe(1);
  });

  it('frees an expired lease at admission even when no sweeper runs', async () => {
    const { a } = limiters({ reservationTtlMs: 5_000 });
    const policy = { id: 'c1', maxConcurrent: 1 };
    admitted(await a.admit(request(policy)));
    rejected(await a.admit(request(policy, { nowMs: T + 4_999 })));
    admitted(await a.admit(request(policy, { nowMs: T + 5_000 })));
  });

  it('rejected requests consume nothing', async () => {
    const { a } = limiters();
    const policy = { id: 'all', requestsPerMinute: 5, requestsPerDay: 100, tokensPerMinute: 1_000, maxConcurrent: 2 };
    const first = admitted(await a.admit(request(policy, { tokens: 100 })));
    admitted(await a.admit(request(policy, { tokens: 100 })));
    const before = await a.usage('key-1', T);
    expect(before).toMatchObject({ requestTokensLeft: 3, requestsToday: 2, tokensLastMinute: 200, concurrent: 2 });
    // Each of these fails on one limit only and must not touch the others.
    for (let i = 0; i < 5; i++) expect(rejected(await a.admit(request(policy, { tokens: 100 }))).reason).toBe('concurrency_limit');
    await a.release(first, T);
    for (let i = 0; i < 5; i++) expect(rejected(await a.admit(request(policy, { tokens: 901 }))).reason).toBe('token_budget_exceeded');
    for (let i = 0; i < 5; i++) expect(rejected(await a.admit(request(policy, { capacity: 0 }))).reason).toBe('no_capacity');
    expect(await a.usage('key-1', T)).toMatchObject({ requestTokensLeft: 3, requestsToday: 2, tokensLastMinute: 100, concurrent: 1 });
  });

  it('admits only when workers have a free slot, when the caller says how many there are', async () => {
    const { a } = limiters();
    const policy = { id: 'open' };
    expect(rejected(await a.admit(request(policy, { capacity: 0 })))).toMatchObject({ reason: 'no_capacity', retryAfterMs: 1_000, remaining: 0 });
    admitted(await a.admit(request(policy, { capacity: 1 })));
    admitted(await a.admit(request(policy)));
  });

  it('reports the limit that frees last when several bind', async () => {
    const { a } = limiters();
    const policy = { id: 'both', requestsPerMinute: 60, burst: 1, requestsPerDay: 1 };
    await a.release(admitted(await a.admit(request(policy))), T);
    const no = rejected(await a.admit(request(policy)));
    const midnight = Math.floor(T / 86_400_000) * 86_400_000 + 86_400_000;
    expect(no).toMatchObject({ reason: 'rate_limited', limit: 1, retryAfterMs: midnight - T });
  });

  it('charges a redelivered request once: the same live reservation comes back', async () => {
    const { a, b } = limiters();
    const policy = { id: 'tpm', tokensPerMinute: 1_000, requestsPerMinute: 10 };
    const input = request(policy, { tokens: 400 });
    const [first, second] = await Promise.all([a.admit(input), b.admit(input)]);
    expect(admitted(first!)).toBe(admitted(second!));
    expect(await a.usage('key-1', T)).toMatchObject({ tokensLastMinute: 400, requestTokensLeft: 9, concurrent: 1 });
  });

  it('uses the Redis server clock when no time is injected', async () => {
    const { a } = limiters();
    const policy = { id: 'rpm', requestsPerMinute: 2 };
    const input = { tenantId: 't', keyId: 'live', model: 'm', tokens: 1, policy };
    admitted(await a.admit({ ...input, requestId: 'x1' }));
    admitted(await a.admit({ ...input, requestId: 'x2' }));
    const no = rejected(await a.admit({ ...input, requestId: 'x3' }));
    expect(no.retryAfterMs).toBeGreaterThan(0);
    expect(no.retryAfterMs).toBeLessThanOrEqual(30_000);
    const serverMs = async () => {
      const [seconds, micros] = await suite.redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    const before = await serverMs();
    const usage = await a.usage('live');
    const after = await serverMs();
    expect(usage.atMs).toBeGreaterThanOrEqual(before);
    expect(usage.atMs).toBeLessThanOrEqual(after);
  });

  it('validates its input', async () => {
    const { a } = limiters();
    await expect(a.admit(request({ id: 'p', tokensPerMin: 5 } as unknown as RateLimitPolicy))).rejects.toThrow();
    await expect(a.admit(request({ id: 'p' }, { tokens: -1 }))).rejects.toThrow(RangeError);
    await expect(a.admit(request({ id: 'p' }, { keyId: 'a{b}' }))).rejects.toThrow(TypeError);
  });
});
