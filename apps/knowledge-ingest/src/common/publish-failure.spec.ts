import { PublishError } from '@aip/messaging';
import { publishFailure } from './publish-failure.ts';

/** What rocketmq-client-nodejs throws for a broker status (a ClientException subclass with a numeric `code`). */
const brokerError = (code: number) => Object.assign(new Error(`[request-id=r, response-code=${code}] refused`), { code });
const rejected = (cause: unknown) => new PublishError('REJECTED', 'kb.change.upsert on kb-change: refused', { cause });
const shape = (error: ReturnType<typeof publishFailure>) => ({ status: error.getStatus(), type: error.type, code: error.code });

describe('publishFailure', () => {
  // Regression (issue 15): the broker refusing a message group of more than 63 bytes (40006) was
  // answered "503 broker unavailable; retry", for ever.
  it('answers a message the broker refuses with a 4xx, never "retry shortly"', () => {
    for (const code of [40005, 40006, 40007, 40016, 43101]) expect(shape(publishFailure(rejected(brokerError(code))))).toEqual({ status: 400, type: 'invalid_request_error', code: 'message_rejected' });
    expect(shape(publishFailure(rejected(brokerError(41301))))).toMatchObject({ status: 413, code: 'message_too_large' });
    expect(shape(publishFailure(rejected(new TypeError('Message body size exceeds the threshold, max size=4194304 bytes'))))).toMatchObject({ status: 413 });
    expect(shape(publishFailure(new PublishError('INVALID_EVENT', 'invalid kb.change.upsert: docId')))).toMatchObject({ status: 400 });
  });

  it('keeps 503 for what retrying can fix: the broker down, slow, throttling, or not set up yet', () => {
    for (const error of [new PublishError('BROKER_UNAVAILABLE', 'down'), new PublishError('TIMEOUT', 'slow'), rejected(brokerError(42900)), rejected(brokerError(40402)), rejected(brokerError(40300)), new Error('what')]) {
      expect(shape(publishFailure(error))).toEqual({ status: 503, type: 'service_unavailable', code: 'service_unavailable' });
    }
  });
});
