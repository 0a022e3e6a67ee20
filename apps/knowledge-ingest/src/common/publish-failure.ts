import { PublishError } from '@aip/messaging';
import { ApiError } from '@aip/runtime';
import { errors } from './errors.ts';

// Broker statuses (RocketMQ 5 `Code`) that refuse the message itself: sending it again fails the
// same way, so the client must hear 4xx, not "retry shortly".
const MESSAGE_REFUSED = new Set([
  40005, // ILLEGAL_MESSAGE_KEY
  40006, // ILLEGAL_MESSAGE_GROUP
  40007, // ILLEGAL_MESSAGE_PROPERTY_KEY
  40016, // MESSAGE_CORRUPTED
  43100, // REQUEST_HEADER_FIELDS_TOO_LARGE
  43101, // MESSAGE_PROPERTIES_TOO_LARGE
]);
const MESSAGE_TOO_LARGE = new Set([41300, 41301]); // PAYLOAD_TOO_LARGE, MESSAGE_BODY_TOO_LARGE

/**
 * What a client hears when a change could not be published. An invalid event or a message the
 * broker refuses is the request's fault (400/413); only the broker being unreachable, slow,
 * throttling or misconfigured is a 503 to retry. `PublishError` says REJECTED for every 4xxxx
 * status, refusals of the message and of our configuration alike, so the status is read from the
 * client's error it wraps.
 */
export function publishFailure(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof PublishError) {
    if (error.code === 'INVALID_EVENT') return errors.invalid(error.message);
    if (error.code === 'REJECTED') {
      const cause = error.cause;
      const status = (cause as { code?: unknown } | undefined)?.code;
      // The client checks the body size itself and throws a TypeError naming the threshold.
      if (MESSAGE_TOO_LARGE.has(status as number) || (cause instanceof TypeError && /body size exceeds/i.test(cause.message))) {
        return new ApiError(413, 'The change is larger than the message broker accepts.', 'invalid_request_error', 'message_too_large');
      }
      if (MESSAGE_REFUSED.has(status as number)) return new ApiError(400, `The message broker refused the change (status ${String(status)}); sending it again will not help.`, 'invalid_request_error', 'message_rejected');
    }
  }
  return errors.unavailable('The message broker');
}
