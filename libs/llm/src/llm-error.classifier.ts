import { LlmError, type LlmErrorKind } from './llm.error.ts';

/**
 * Maps whatever an upstream client threw (openai SDK `APIError`s, LangChain wrappers such as
 * `ContextOverflowError` whose `cause` is the SDK error, fetch/undici network errors) to an
 * `LlmError`. The wrappers differ by version, so this reads plain properties along the `cause`
 * chain (status, headers, code, name, message) instead of relying on `instanceof`.
 */

type HeaderBag = { get(name: string): string | null } | Record<string, unknown>;

interface Facts {
  status: number | undefined;
  headers: HeaderBag | undefined;
  codes: string[];
  names: string[];
  text: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const CONTENT_POLICY_CODES = new Set(['content_filter', 'content_policy_violation', 'data_inspection_failed', 'moderation_blocked']);
const CONTEXT_LENGTH_TEXT = /context_length_exceeded|maximum context length|context window|context length|prompt is too long|too many tokens|reduce the length of the messages/i;
const CONTENT_POLICY_TEXT = /content management policy|content[_ ]policy|content_filter|safety system|inappropriate content/i;
const NETWORK_TEXT = /fetch failed|terminated|socket hang up|other side closed|connection error|network|ECONNRESET|ECONNREFUSED|premature close/i;

function readFacts(error: unknown): Facts {
  const facts: Facts = { status: undefined, headers: undefined, codes: [], names: [], text: '' };
  let current: unknown = error;
  // Wrappers nest a few levels at most; the bound guards against cause cycles.
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const record = current as Record<string, unknown>;
    if (facts.status === undefined && typeof record['status'] === 'number') facts.status = record['status'];
    if (facts.headers === undefined && typeof record['headers'] === 'object' && record['headers'] !== null) facts.headers = record['headers'] as HeaderBag;
    for (const key of ['code', 'type', 'lc_error_code']) {
      const value = record[key];
      if (typeof value === 'string') facts.codes.push(value);
    }
    // The JSON error body of openai's APIError, e.g. { code: 'context_length_exceeded' }.
    const body = record['error'];
    if (typeof body === 'object' && body !== null) {
      const code = (body as Record<string, unknown>)['code'];
      if (typeof code === 'string') facts.codes.push(code);
    }
    if (typeof record['name'] === 'string') facts.names.push(record['name']);
    const constructorName = (current as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof constructorName === 'string') facts.names.push(constructorName);
    if (typeof record['message'] === 'string') facts.text += ` ${record['message']}`;
    current = record['cause'];
  }
  if (typeof error === 'string') facts.text = error;
  return facts;
}

function header(headers: HeaderBag | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof headers['get'] === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name] ?? (headers as Record<string, unknown>)[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Milliseconds to wait according to `retry-after-ms` (OpenAI, Azure) or `Retry-After` (seconds or
 * an HTTP date). Undefined when absent or unparsable.
 */
export function parseRetryAfter(headers: HeaderBag | undefined, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Math.ceil(Number(ms));
  const value = header(headers, 'retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function kindOf(facts: Facts): LlmErrorKind {
  const { status, codes, names, text } = facts;
  const has = (set: ReadonlySet<string>) => codes.some((code) => set.has(code));
  if (names.includes('ContextOverflowError') || codes.includes('context_length_exceeded')) return 'context_length';
  if (has(CONTENT_POLICY_CODES)) return 'content_policy';
  if (names.includes('TimeoutError') || names.includes('APIConnectionTimeoutError')) return 'timeout';
  if (status !== undefined) {
    if (status === 401 || status === 403) return 'auth';
    // An exhausted quota or billing problem does not clear in seconds: treat it like bad credentials.
    if (status === 429) return codes.includes('insufficient_quota') ? 'auth' : 'rate_limited';
    if (status === 408 || status === 504) return 'timeout';
    if (status >= 500) return 'server_error';
    if (status === 409) return 'server_error';
    if (CONTEXT_LENGTH_TEXT.test(text) || status === 413) return 'context_length';
    if (CONTENT_POLICY_TEXT.test(text)) return 'content_policy';
    return 'bad_request';
  }
  if (CONTEXT_LENGTH_TEXT.test(text)) return 'context_length';
  if (codes.some((code) => NETWORK_CODES.has(code)) || names.includes('APIConnectionError') || NETWORK_TEXT.test(text)) return 'network';
  // An error event inside an otherwise healthy stream, or something we do not recognise.
  return 'server_error';
}

export function classifyLlmError(error: unknown, provider?: string): LlmError {
  if (error instanceof LlmError) {
    if (provider !== undefined && error.provider === undefined) error.provider = provider;
    return error;
  }
  const facts = readFacts(error);
  const kind = kindOf(facts);
  const retryAfterMs = kind === 'rate_limited' ? parseRetryAfter(facts.headers) : undefined;
  // LangChain appends a troubleshooting URL to messages; the first line is the useful part.
  const message = (facts.text.trim().split('\n')[0] ?? '') || String(error);
  return new LlmError(kind, `${provider ? `${provider}: ` : ''}${message}`, {
    cause: error,
    ...(facts.status !== undefined ? { status: facts.status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(provider !== undefined ? { provider } : {}),
  });
}
