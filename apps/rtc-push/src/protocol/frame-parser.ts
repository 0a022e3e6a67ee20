import { CLIENT_FRAME_TYPES, clientFrame, type ClientFrame, type ErrorFrame } from '@aip/contracts';
import { isStreamId } from '@aip/tasks';
import { PUSH_ID_MESSAGE } from './push-id.ts';

export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; error: ErrorFrame };

const refused = (code: string, message: string, ref?: string): ParseResult => ({ ok: false, error: { type: 'error', code, message, ...(ref ? { ref } : {}) } });

/**
 * Text of one inbound frame → a validated client frame, or the error frame to answer with.
 * Never throws: bad input gets a clear answer and the connection goes on.
 */
export function parseClientFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refused('invalid_json', 'the frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refused('invalid_frame', 'a frame must be a JSON object with a "type"');
  const { type, ref, v } = value as { type?: unknown; ref?: unknown; v?: unknown };
  const safeRef = typeof ref === 'string' && ref.length > 0 && ref.length <= 128 ? ref : undefined;
  if (typeof type !== 'string') return refused('invalid_frame', 'a frame must have a string "type"');
  if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) return refused('unknown_type', `unknown frame type "${type.slice(0, 32)}"; expected one of ${CLIENT_FRAME_TYPES.join(', ')}`, safeRef);
  if ((type === 'hello' || type === 'resume') && v !== 1) return refused('unsupported_version', 'this server speaks protocol version 1 ("v": 1)');
  const parsed = clientFrame.safeParse(value);
  if (!parsed.success) {
    // The union reports every branch; the issues of the branch matching `type` are the useful ones.
    const issues = parsed.error.issues.flatMap((issue) => (issue.code === 'invalid_union' ? issue.errors.find((branch) => !branch.some((i) => i.path[0] === 'type')) ?? [] : [issue]));
    const message = (issues.length > 0 ? issues : parsed.error.issues).map((i) => `${i.path.join('.') || type}: ${i.message}`).join('; ');
    return refused('invalid_frame', `${type}: ${message}`, safeRef);
  }
  const frame = parsed.data;
  const ids = frame.type === 'ack' ? frame.ids.map((id, i) => [`ids.${i}`, id] as const) : (frame.type === 'hello' || frame.type === 'resume') && frame.lastPushId !== undefined ? [['lastPushId', frame.lastPushId] as const] : [];
  const bad = ids.find(([, id]) => !isStreamId(id));
  if (bad) return refused('invalid_frame', `${type}: ${bad[0]}: ${PUSH_ID_MESSAGE}`);
  return { ok: true, frame };
}
