import type { ModelCatalog } from '../models/model-catalog.ts';
import type { Moderation } from '../moderation/moderation.service.ts';

/**
 * Error codes of refused chats, the same on every edge: access's HTTP API answers them in the
 * platform's error shape, rtc-push in `error` frames (and the same HTTP shape on its SSE routes).
 */
export const CHAT_ERROR_CODES = {
  /** 404: the model is not in the routing document. */
  modelNotFound: 'model_not_found',
  /** 403: the API key (or the realtime token) does not allow the model. */
  modelNotAllowed: 'model_not_allowed',
  /** 400: a message contains a sensitive word and the policy is `block`. */
  contentPolicy: 'content_policy_violation',
  /** 403: a `system` message from a caller that may not set the system prompt (a realtime token's browser user). */
  roleNotAllowed: 'role_not_allowed',
  /** 503: the broker or Redis is down; retry. */
  unavailable: 'service_unavailable',
} as const;

export interface ChatRefusal {
  status: 400 | 403 | 404;
  type: 'invalid_request_error' | 'permission_error' | 'not_found_error';
  code: (typeof CHAT_ERROR_CODES)[keyof typeof CHAT_ERROR_CODES];
  message: string;
  param: 'model' | 'messages';
}

export const chatRefusals = {
  modelNotFound: (model: string): ChatRefusal => ({ status: 404, type: 'not_found_error', code: CHAT_ERROR_CODES.modelNotFound, message: `The model '${model}' does not exist.`, param: 'model' }),
  modelNotAllowed: (model: string, by: 'API key' | 'realtime token' = 'API key'): ChatRefusal => ({ status: 403, type: 'permission_error', code: CHAT_ERROR_CODES.modelNotAllowed, message: `This ${by} may not use the model '${model}'.`, param: 'model' }),
  contentPolicy: (): ChatRefusal => ({ status: 400, type: 'invalid_request_error', code: CHAT_ERROR_CODES.contentPolicy, message: 'The request contains words that are not allowed.', param: 'messages' }),
  roleNotAllowed: (): ChatRefusal => ({ status: 403, type: 'permission_error', code: CHAT_ERROR_CODES.roleNotAllowed, message: "A realtime token may not send 'system' messages.", param: 'messages' }),
};

export interface ChatPolicy {
  catalog: ModelCatalog;
  moderation: Moderation;
  /** The key's allowed models (empty or absent: all served). */
  keyModels?: readonly string[] | undefined;
  /** A realtime token's models (its grant), checked besides the key's: the key may have been narrowed since. */
  tokenModels?: readonly string[] | undefined;
  /** Whether `system` messages are accepted (not from a realtime token). Default true. */
  allowSystem?: boolean;
}

export type ChatAdmission<M> = { ok: true; messages: M[] } | { ok: false; refusal: ChatRefusal };

/**
 * The checks every chat passes before its task is created, in access's order: served model,
 * allowed model (key, then token), roles, then the sensitive-word policy on the messages
 * (refused, or masked to go on).
 */
export function admitChat<M extends { role: string; content: string }>(request: { model: string; messages: readonly M[] }, policy: ChatPolicy): ChatAdmission<M> {
  const { model } = request;
  if (!policy.catalog.aliases.includes(model)) return { ok: false, refusal: chatRefusals.modelNotFound(model) };
  if (policy.keyModels?.length && !policy.keyModels.includes(model)) return { ok: false, refusal: chatRefusals.modelNotAllowed(model) };
  if (policy.tokenModels && !policy.tokenModels.includes(model)) return { ok: false, refusal: chatRefusals.modelNotAllowed(model, 'realtime token') };
  if (policy.allowSystem === false && request.messages.some((m) => m.role === 'system')) return { ok: false, refusal: chatRefusals.roleNotAllowed() };
  const messages = policy.moderation.screen(request.messages);
  if (!messages) return { ok: false, refusal: chatRefusals.contentPolicy() };
  return { ok: true, messages };
}
