import { toPublishError } from './event.publisher.ts';

const failure = (code: number) => Object.assign(new Error(`status ${code}`), { code });

describe('toPublishError', () => {
  it('treats throttling (42900) as retryable, like a broker outage', () => {
    expect(toPublishError(failure(42_900), 'ai.request.submitted', 'ai-request')).toMatchObject({ code: 'THROTTLED', retryable: true });
    expect(toPublishError(new Error('14 UNAVAILABLE: No connection established'), 'ai.request.submitted', 'ai-request')).toMatchObject({ code: 'BROKER_UNAVAILABLE', retryable: true });
  });

  it('treats a refused message (bad group, bad key, too large) as not retryable', () => {
    for (const code of [40_005, 40_006, 41_301]) expect(toPublishError(failure(code), 'kb.change.upsert', 'kb-change')).toMatchObject({ code: 'REJECTED', retryable: false });
    expect(toPublishError(new TypeError('message type mismatch'), 'kb.change.upsert', 'kb-change')).toMatchObject({ code: 'REJECTED', retryable: false });
  });
});
