import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ChatChunk, ChatMessage, ChatModelPort, ChatStreamRequest } from './chat-model.port.ts';
import type { CooldownStore } from './cooldown.store.ts';
import { LlmError, type LlmErrorKind, type ProviderAttempt } from './llm.error.ts';
import { classifyLlmError } from './llm-error.classifier.ts';
import { capabilityNeeds, forwardingNeeds } from './forwarding-needs.ts';
import { UnsupportedRequestError } from './unsupported-request.error.ts';

export interface FallbackProvider {
  port: ChatModelPort;
  /**
   * Longest wait for the first chunk (connection, queueing and prefill included). Past it the
   * provider is abandoned (its request aborted) and the next one is tried.
   */
  firstTokenTimeoutMs: number;
  /**
   * Longest silence between chunks once text has started. Past it the stream fails with a
   * 'timeout' LlmError (no fallback: text was already sent). Default: no limit.
   */
  idleTimeoutMs?: number;
  /** Weighted routing: this provider's share of first tries (see the routing schema's `weight`). */
  weight?: number;
}

export type CooldownPolicy = Record<LlmErrorKind, number>;

/**
 * How long a provider is skipped after each kind of failure. Health failures cool it down; faults
 * of the request itself (too long, refused content, malformed) say nothing about the provider and
 * only fall back. A 429's Retry-After replaces the rate_limited figure.
 */
export const DEFAULT_COOLDOWN_MS: Readonly<CooldownPolicy> = {
  timeout: 30_000,
  server_error: 30_000,
  network: 30_000,
  rate_limited: 10_000,
  auth: 600_000,
  context_length: 0,
  content_policy: 0,
  bad_request: 0,
};

export interface ServedBy {
  provider: string;
  model: string;
  /** Everything tried for this request so far, the serving provider last. */
  attempts: ProviderAttempt[];
}

/** Called once, just before the first chunk is passed on, with the provider that serves it. */
export type OnProvider = (provider: string, served: ServedBy) => void;

export interface FallbackChainOptions {
  /** The model alias this chain serves. */
  name: string;
  /** In order of preference. */
  providers: FallbackProvider[];
  /** Shared cooldowns; without it failures only fall back and nothing is remembered. */
  cooldowns?: CooldownStore;
  cooldownMs?: Partial<CooldownPolicy>;
  /** Upper bound for cooldowns taken from Retry-After (default 10 min). */
  maxCooldownMs?: number;
  /** Bound on a cooldown read or write, so a slow Redis cannot stall every request (default 250 ms). */
  redisTimeoutMs?: number;
  logger?: Pick<Logger, 'warn'>;
  /** With weights: the same `routingKey` always starts with the same variant. */
  sticky?: boolean;
  /** Uniform in [0, 1): which variant an unsticky request starts with (tests pass their own). */
  random?: () => number;
}

/**
 * A stable number in [0, 1) of a key: a sticky request's draw. FNV-1a, then MurmurHash3's final
 * mix, without which keys that differ in their last character (session-1, session-2) draw
 * nearly the same number.
 */
function draw(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}

const tracer = trace.getTracer('@aip/llm');

/** Ends a provider attempt's span: its usage and finish reason (GenAI conventions), or its failure. */
function endAttempt(span: Span, outcome: { done?: Extract<ChatChunk, { type: 'done' }>; error?: unknown }): void {
  if (outcome.done) {
    span.setAttributes({ 'gen_ai.usage.input_tokens': outcome.done.usage.promptTokens, 'gen_ai.usage.output_tokens': outcome.done.usage.completionTokens, 'gen_ai.response.finish_reasons': [outcome.done.finishReason] });
  } else {
    const kind = outcome.error instanceof LlmError ? outcome.error.kind : 'stopped';
    span.setAttribute('error.type', kind);
    if (outcome.error !== undefined) span.recordException(outcome.error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: kind });
  }
  span.end();
}

/** What the choice of providers reads of a request: its turns (tool turns, image parts) and forwarded fields. */
type NeedsOf = Pick<ChatStreamRequest, 'forward'> & { messages: readonly (Pick<ChatMessage, 'role' | 'content' | 'toolCalls'> & { parts?: readonly { type: string }[] | undefined })[] };

interface PlannedProvider {
  provider: FallbackProvider;
  /** Chosen although cooling down, because every provider was. */
  cooling: boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * An ordered list of providers for one model alias, aware of streaming:
 * - before the first chunk, an error or a missed first-token timeout abandons the provider (its
 *   request is aborted) and the next one is tried;
 * - once a delta has been passed on, a failure surfaces as an LlmError: text cannot be unsent;
 * - failed providers cool down in Redis for every worker, per error kind; cooling providers are
 *   skipped, and when all of them cool down the one whose cooldown ends first is tried anyway;
 * - a request that needs forwarding (tools, structured output, sampling fields, tool turns) is
 *   only offered to providers that forward: an answer that silently ignored them would look valid
 *   and be wrong. Likewise a request with images goes only to providers with the `images`
 *   capability. With none, it fails with UnsupportedRequestError before anything is tried.
 */
export class FallbackChain implements ChatModelPort {
  readonly name: string;
  readonly model: string;
  /** Some provider honours forwarded fields and tool turns; requests that need them go only to those. */
  readonly forwards: boolean;
  /** Some provider reads images (the `images` capability); requests with images go only to those. */
  readonly images: boolean;
  private readonly providers: readonly FallbackProvider[];
  private readonly cooldowns: CooldownStore | undefined;
  private readonly policy: CooldownPolicy;
  private readonly maxCooldownMs: number;
  private readonly redisTimeoutMs: number;
  private readonly logger: Pick<Logger, 'warn'> | undefined;
  private readonly sticky: boolean;
  private readonly random: () => number;

  constructor(options: FallbackChainOptions) {
    if (options.providers.length === 0) throw new Error(`model "${options.name}" has no providers`);
    this.name = options.name;
    this.model = options.name;
    this.providers = [...options.providers];
    this.forwards = this.providers.some((provider) => provider.port.forwards);
    this.images = this.providers.some((provider) => provider.port.images === true);
    this.cooldowns = options.cooldowns;
    this.policy = { ...DEFAULT_COOLDOWN_MS, ...options.cooldownMs };
    this.maxCooldownMs = options.maxCooldownMs ?? 600_000;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 250;
    this.logger = options.logger;
    this.sticky = options.sticky ?? false;
    this.random = options.random ?? Math.random;
  }

  /** Provider names in order of preference. */
  providerNames(): string[] {
    return this.providers.map((provider) => provider.port.name);
  }

  /** The cooldown a failure earns, in ms (0: none). */
  cooldownFor(error: LlmError): number {
    if (error.kind === 'rate_limited' && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, this.maxCooldownMs);
    return Math.min(this.policy[error.kind], this.maxCooldownMs);
  }

  async *stream(request: ChatStreamRequest, onProvider?: OnProvider): AsyncGenerator<ChatChunk> {
    const { signal, ...rest } = request;
    signal?.throwIfAborted();
    const attempts: ProviderAttempt[] = [];
    let lastError: LlmError | undefined;
    const candidates = this.variantFirst(this.candidatesFor(rest), rest.routingKey);

    for (const { provider, cooling } of await this.plan(candidates, attempts)) {
      // The caller may have gone away while cooldowns were read or a provider failed.
      signal?.throwIfAborted();
      const name = provider.port.name;
      const attempt = new AbortController();
      const forwardAbort = () => attempt.abort(signal?.reason);
      signal?.addEventListener('abort', forwardAbort, { once: true });
      // One CLIENT span per provider attempt (GenAI semantic conventions), child of the caller's.
      const span = tracer.startSpan(`chat ${provider.port.model}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': name, 'gen_ai.request.model': provider.port.model, 'gen_ai.request.max_tokens': rest.maxTokens, 'aip.model.alias': this.name, 'aip.attempt': attempts.length + 1 },
      });
      let spanEnded = false;
      const endSpan = (outcome: Parameters<typeof endAttempt>[1]) => {
        if (spanEnded) return;
        spanEnded = true;
        endAttempt(span, outcome);
      };
      const iterator = provider.port.stream({ ...rest, signal: attempt.signal })[Symbol.asyncIterator]();
      let finished = false;
      try {
        let first: ChatChunk;
        try {
          first = await this.firstChunk(iterator, provider, attempt);
        } catch (error) {
          endSpan({ error });
          if (signal?.aborted) throw signal.reason;
          lastError = classifyLlmError(error, name);
          attempts.push(await this.failed(name, lastError, 'before the first token'));
          continue;
        }

        attempts.push({ provider: name, outcome: 'served' });
        if (cooling) void this.clearCooldown(name);
        onProvider?.(name, { provider: name, model: provider.port.model, attempts: [...attempts] });

        // From here on text reaches the caller: a failure is reported, never retried elsewhere.
        if (first.type === 'done') endSpan({ done: first });
        yield first;
        if (first.type === 'done') {
          finished = true;
          return;
        }
        const idle = provider.idleTimeoutMs !== undefined ? setTimeout(() => attempt.abort(new LlmError('timeout', `${name}: stream stalled for ${provider.idleTimeoutMs} ms`, { provider: name })), provider.idleTimeoutMs) : undefined;
        try {
          for (;;) {
            let next: IteratorResult<ChatChunk>;
            try {
              next = await iterator.next();
              if (next.done) throw new LlmError('server_error', `${name}: stream ended without a done chunk`, { provider: name });
            } catch (error) {
              if (signal?.aborted) throw signal.reason;
              const reason: unknown = attempt.signal.reason;
              const failure = classifyLlmError(reason instanceof LlmError ? reason : error, name);
              attempts[attempts.length - 1] = await this.failed(name, failure, 'after the first token');
              failure.attempts = attempts;
              endSpan({ error: failure });
              throw failure;
            }
            idle?.refresh();
            if (next.value.type === 'done') endSpan({ done: next.value });
            yield next.value;
            if (next.value.type === 'done') {
              finished = true;
              return;
            }
          }
        } finally {
          clearTimeout(idle);
        }
      } finally {
        // The caller stopped early or was aborted: the attempt did not finish.
        endSpan({});
        signal?.removeEventListener('abort', forwardAbort);
        // The caller stopped early, the provider failed or timed out: stop its upstream request.
        if (!finished) {
          if (!attempt.signal.aborted) attempt.abort(new Error('fallback chain stopped this attempt'));
          iterator.return?.(undefined).catch(() => undefined);
        }
      }
    }

    const summary = attempts.map((entry) => `${entry.provider}: ${entry.outcome}${entry.kind ? ` (${entry.kind})` : ''}`).join(', ');
    throw new LlmError(lastError?.kind ?? 'server_error', `all providers of model "${this.name}" failed: ${summary}`, {
      attempts,
      cause: lastError,
      ...(lastError?.retryAfterMs !== undefined ? { retryAfterMs: lastError.retryAfterMs } : {}),
      ...(lastError?.status !== undefined ? { status: lastError.status } : {}),
    });
  }

  /**
   * Why no provider of this alias can serve a request (what it asks that none can do), or
   * undefined when one can: lets a caller refuse before it spends anything on the request.
   */
  refusal(request: NeedsOf): UnsupportedRequestError | undefined {
    try {
      this.candidatesFor(request);
      return undefined;
    } catch (error) {
      if (error instanceof UnsupportedRequestError) return error;
      throw error;
    }
  }

  /** The providers able to serve the request, in order; UnsupportedRequestError when none is. */
  private candidatesFor(request: NeedsOf): readonly FallbackProvider[] {
    const forwarding = forwardingNeeds(request);
    const capabilities = capabilityNeeds(request.messages);
    if (forwarding.length === 0 && capabilities.length === 0) return this.providers;
    const able = this.providers.filter((provider) => (forwarding.length === 0 || provider.port.forwards) && (capabilities.length === 0 || provider.port.images === true));
    if (able.length === 0) throw new UnsupportedRequestError(this.name, [...forwarding, ...capabilities]);
    return able;
  }

  /**
   * Weighted routing: one candidate drawn by weight (by the routing key's hash when sticky) goes
   * first, the others follow in their order as its fallback. Unweighted chains keep their order.
   */
  private variantFirst(candidates: readonly FallbackProvider[], routingKey: string | undefined): readonly FallbackProvider[] {
    const total = candidates.reduce((sum, provider) => sum + (provider.weight ?? 0), 0);
    if (total <= 0) return candidates;
    let point = (this.sticky && routingKey !== undefined ? draw(routingKey) : this.random()) * total;
    const chosen = candidates.find((provider) => (point -= provider.weight ?? 0) < 0) ?? candidates.findLast((provider) => (provider.weight ?? 0) > 0)!;
    return [chosen, ...candidates.filter((provider) => provider !== chosen)];
  }

  /** Providers to try, in order; cooling providers are listed in `attempts` as skipped. */
  private async plan(candidates: readonly FallbackProvider[], attempts: ProviderAttempt[]): Promise<PlannedProvider[]> {
    // With one provider a cooldown cannot change the choice: spare the Redis round trip.
    if (!this.cooldowns || candidates.length < 2) return candidates.map((provider) => ({ provider, cooling: false }));
    let remaining: Map<string, number>;
    try {
      remaining = await withTimeout(this.cooldowns.remaining(candidates.map((provider) => provider.port.name)), this.redisTimeoutMs, 'reading LLM cooldowns');
    } catch (error) {
      // Without Redis every provider is tried: availability beats remembering failures.
      this.logger?.warn({ err: error, model: this.name }, 'LLM cooldowns unavailable; trying all providers');
      return candidates.map((provider) => ({ provider, cooling: false }));
    }
    const ready = candidates.filter((provider) => !remaining.has(provider.port.name));
    let soonest: FallbackProvider | undefined;
    if (ready.length === 0) {
      soonest = candidates.reduce((best, provider) => ((remaining.get(provider.port.name) ?? 0) < (remaining.get(best.port.name) ?? 0) ? provider : best));
    }
    for (const provider of candidates) {
      const left = remaining.get(provider.port.name);
      if (left !== undefined && provider !== soonest) attempts.push({ provider: provider.port.name, outcome: 'skipped', cooldownMs: left });
    }
    return soonest ? [{ provider: soonest, cooling: true }] : ready.map((provider) => ({ provider, cooling: false }));
  }

  private async firstChunk(iterator: AsyncIterator<ChatChunk>, provider: FallbackProvider, attempt: AbortController): Promise<ChatChunk> {
    const name = provider.port.name;
    const next = iterator.next();
    // After a timeout the abandoned next() rejects later; that rejection is expected, not unhandled.
    next.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const result = await Promise.race([
        next,
        // The timer races the adapter instead of trusting it to honour the abort signal promptly.
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new LlmError('timeout', `${name}: no first token within ${provider.firstTokenTimeoutMs} ms`, { provider: name });
            attempt.abort(error);
            reject(error);
          }, provider.firstTokenTimeoutMs);
        }),
        new Promise<never>((_, reject) => {
          onAbort = () => reject(attempt.signal.reason);
          attempt.signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      if (result.done) throw new LlmError('server_error', `${name}: stream ended without any chunk`, { provider: name });
      return result.value;
    } finally {
      clearTimeout(timer);
      if (onAbort) attempt.signal.removeEventListener('abort', onAbort);
    }
  }

  private async failed(provider: string, error: LlmError, when: string): Promise<ProviderAttempt> {
    const cooldownMs = this.cooldownFor(error);
    let applied: number | undefined;
    if (this.cooldowns && cooldownMs > 0) {
      try {
        applied = await withTimeout(this.cooldowns.coolDown(provider, cooldownMs, error.kind), this.redisTimeoutMs, 'writing an LLM cooldown');
      } catch (redisError) {
        this.logger?.warn({ err: redisError, provider }, 'could not record LLM cooldown');
      }
    }
    this.logger?.warn({ provider, model: this.name, kind: error.kind, cooldownMs: applied ?? 0, err: error }, `LLM provider failed ${when}`);
    return { provider, outcome: 'failed', kind: error.kind, ...(applied !== undefined ? { cooldownMs: applied } : {}) };
  }

  private async clearCooldown(provider: string): Promise<void> {
    try {
      await withTimeout(this.cooldowns?.clear(provider) ?? Promise.resolve(), this.redisTimeoutMs, 'clearing an LLM cooldown');
    } catch (error) {
      this.logger?.warn({ err: error, provider }, 'could not clear LLM cooldown');
    }
  }
}
