import type { Envelope } from '@aip/contracts';
import type { PriceBook } from './price-book.ts';

/** How a request ended, as the ledger records it. */
export type UsageStatus = 'completed' | 'failed' | 'cancelled' | 'rejected';

/** One row of the ledger: one request's end, with what it used and cost. */
export interface UsageEntry {
  /** The lifecycle event's id: a redelivered event is the same row. */
  eventId: string;
  occurredAt: Date;
  tenantId: string;
  keyId: string;
  userId: string | null;
  sessionId: string | null;
  taskId: string;
  /** The alias the client asked for (absent on events that do not name it). */
  model: string | null;
  /** The provider of the alias that answered, and the model it names upstream. */
  provider: string | null;
  providerModel: string | null;
  status: UsageStatus;
  /** Why it did not complete: the error code or the limiter's reason. */
  errorClass: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** In billionths of a US dollar (integer, so sums are exact); computed once, when written. */
  costNanos: number;
  queueMs: number | null;
  firstTokenMs: number | null;
  durationMs: number | null;
  traceId: string | null;
}

/** The lifecycle events that end a request: each becomes one ledger row. */
export const LEDGER_EVENTS = ['ai.inference.completed', 'ai.inference.failed', 'ai.inference.cancelled', 'ai.request.rejected'] as const;
export type LedgerEvent = (typeof LEDGER_EVENTS)[number];

/** The trace id of a W3C `traceparent` (`00-<trace>-<span>-<flags>`). */
function traceIdOf(traceparent: string | undefined): string | null {
  return traceparent?.split('-')[1] ?? null;
}

/** The ledger row of a request's terminal event, priced with today's prices of its provider. */
export function usageEntryOf(event: Envelope<LedgerEvent>, prices: PriceBook): UsageEntry {
  const base = {
    eventId: event.id,
    occurredAt: new Date(event.time),
    tenantId: event.tenantId,
    keyId: event.data.apiKeyId,
    taskId: event.data.taskId,
    traceId: traceIdOf(event.traceparent),
    userId: null,
    sessionId: null,
    provider: null,
    providerModel: null,
    errorClass: null,
    queueMs: null,
    firstTokenMs: null,
    durationMs: null,
  };
  const data = event.data as Envelope<LedgerEvent>['data'] & { model?: string };
  const model = data.model ?? null;
  const usage = 'usage' in data ? data.usage : undefined;
  const tokens = { promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0, cachedTokens: usage?.cachedTokens ?? 0 };
  if (event.type === 'ai.inference.completed') {
    const completed = (event as Envelope<'ai.inference.completed'>).data;
    const provider = prices.providerOf(completed.model, completed.provider);
    // Priced as the limiter settles budgets (PriceBook.costOf): one rule for what a request cost.
    return {
      ...base,
      ...tokens,
      userId: completed.userId ?? null,
      sessionId: completed.sessionId ?? null,
      model: completed.model,
      provider: completed.provider,
      providerModel: provider?.model ?? null,
      status: 'completed',
      costNanos: prices.costOf(completed.model, completed.provider, tokens),
      queueMs: completed.timings.queueMs,
      firstTokenMs: completed.timings.firstTokenMs ?? null,
      durationMs: completed.timings.totalMs,
    };
  }
  // Failed or cancelled runs may have used tokens (billed by the provider all the same); their
  // provider is not named on the event, so they are recorded at no cost rather than guessed.
  const status: UsageStatus = event.type === 'ai.inference.failed' ? 'failed' : event.type === 'ai.inference.cancelled' ? 'cancelled' : 'rejected';
  const errorClass = 'error' in data ? data.error.code : 'reason' in data ? data.reason : null;
  return { ...base, ...tokens, model, status, errorClass, costNanos: 0 };
}

/** Prices in US dollars per million tokens; cached prompt tokens at `cached` (else `input`). */
export interface Price {
  input: number;
  output: number;
  cached?: number | undefined;
}

/** The cost of the tokens at a price, in billionths of a dollar, rounded once. */
export function costNanos(tokens: { promptTokens: number; completionTokens: number; cachedTokens: number }, price: Price | undefined): number {
  if (!price) return 0;
  const cached = Math.min(tokens.cachedTokens, tokens.promptTokens);
  // $ per million tokens = 1,000 nano-dollars per token.
  return Math.round(((tokens.promptTokens - cached) * price.input + cached * (price.cached ?? price.input) + tokens.completionTokens * price.output) * 1_000);
}
