import { assertId } from './redis-script.ts';

export const MAX_PRIORITY = 99;
/** Deadlines are written as 15 digits so that string order is time order (good until year 33658). */
export const MAX_DEADLINE_MS = 999_999_999_999_999;

/**
 * The fixed-width parts of a queue member `<keyId>\0<pp><ddddddddddddddd>\0<requestId>`, whose
 * byte order within one key is (priority, deadline, request id). See deadline-queue.lua.ts.
 */
export function encodeQueueOrder(priority: number, deadlineMs: number): { priority: string; deadline: string } {
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) throw new RangeError(`priority must be an integer 0..${MAX_PRIORITY}, got ${priority}`);
  if (!Number.isSafeInteger(deadlineMs) || deadlineMs < 0 || deadlineMs > MAX_DEADLINE_MS) throw new RangeError(`deadlineMs must be a non-negative integer of ms, got ${deadlineMs}`);
  return { priority: String(priority).padStart(2, '0'), deadline: String(deadlineMs).padStart(15, '0') };
}

export function encodeQueueMember(keyId: string, requestId: string, priority: number, deadlineMs: number): string {
  assertId('keyId', keyId);
  assertId('requestId', requestId);
  const order = encodeQueueOrder(priority, deadlineMs);
  return `${keyId}\0${order.priority}${order.deadline}\0${requestId}`;
}
