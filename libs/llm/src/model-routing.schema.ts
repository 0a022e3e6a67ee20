import { z } from 'zod';

/** Provider name: it is also the cooldown key, so the same upstream keeps the same name everywhere. */
const providerName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'letters, digits and . _ : - (max 100)');
const timeoutMs = z.number().int().positive();
/**
 * Weighted routing (A/B tests, canaries): the share of an alias's requests that go to this provider
 * first, relative to the other weights (90 and 10: nine in ten). The rest of the chain stays the
 * fallback, in order. A provider without a weight is only ever a fallback; no weights: the order.
 */
const weight = z.number().nonnegative().finite();

export const openAICompatibleProviderSchema = z.object({
  name: providerName,
  kind: z.literal('openai-compatible'),
  /** Including the version path, e.g. https://api.openai.com/v1 */
  baseUrl: z.url(),
  /** Optional: local servers (Ollama, vLLM) usually need none. */
  apiKey: z.string().min(1).optional(),
  model: z.string().min(1),
  /** Default 10 s. */
  firstTokenTimeoutMs: timeoutMs.optional(),
  /** Longest silence once text has started; default 60 s. */
  idleTimeoutMs: timeoutMs.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /**
   * What the upstream model can do beyond text and OpenAI's request fields, declared because the
   * API cannot be asked: `images` (it reads image parts). A request with images goes only to the
   * providers that declare it; an alias with none refuses it (400 `unsupported_capability`).
   */
  capabilities: z.array(z.enum(['images'])).max(8).optional(),
  weight: weight.optional(),
  /**
   * US dollars per million tokens, for the usage ledger's cost (computed when a request ends and
   * never changed after): `input` prompt tokens, `output` completion tokens, `cached` prompt
   * tokens the provider served from its cache (default: `input`). Unpriced: cost 0.
   */
  price: z.object({ input: z.number().nonnegative(), output: z.number().nonnegative(), cached: z.number().nonnegative().optional() }).optional(),
});

export const extractiveProviderSchema = z.object({
  name: providerName,
  kind: z.literal('extractive'),
  firstTokenTimeoutMs: timeoutMs.optional(),
  idleTimeoutMs: timeoutMs.optional(),
  weight: weight.optional(),
});

export const modelProviderSchema = z.discriminatedUnion('kind', [openAICompatibleProviderSchema, extractiveProviderSchema]);

export const modelRoutingSchema = z.object({
  models: z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'model alias: letters, digits and . _ : / -'),
    z.object({
      /** With weights: a conversation (session) keeps the provider it first got, so its turns are not split between variants. */
      sticky: z.boolean().optional(),
      providers: z
        .array(modelProviderSchema)
        .min(1)
        .refine((providers) => new Set(providers.map((provider) => provider.name)).size === providers.length, 'provider names must be unique within a model'),
    }),
  ),
});

export type ModelRoutingConfig = z.infer<typeof modelRoutingSchema>;
export type ModelProviderConfig = z.infer<typeof modelProviderSchema>;

/** Works anywhere, no LLM: the retrieval-only responder. */
export const DEFAULT_MODEL_ROUTING: ModelRoutingConfig = {
  models: { extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] } },
};
