import { z } from 'zod';
import { costNanos, type Price } from './usage-entry.ts';

/**
 * The part of the `routing` run-time document the ledger reads (`modelRoutingSchema` of @aip/llm
 * validates it when it is written): each alias's providers, their upstream model and price.
 */
const routingPricesSchema = z.object({
  models: z.record(
    z.string(),
    z.object({
      providers: z.array(
        z.object({
          name: z.string(),
          model: z.string().optional(),
          price: z.object({ input: z.number(), output: z.number(), cached: z.number().optional() }).optional(),
        }),
      ),
    }),
  ),
});

export interface PricedProvider {
  model: string | undefined;
  price: Price | undefined;
}

/**
 * The providers of each alias as the routing document names and prices them; applied by the
 * document watch. `startup`: the app's `MODEL_ROUTING`, in force while no document is written.
 */
export class PriceBook {
  private providers = new Map<string, PricedProvider>();
  private readonly startup: unknown;

  constructor(startup: unknown = null) {
    this.startup = startup;
    this.applyRouting(null);
  }

  applyRouting(body: unknown): void {
    const next = new Map<string, PricedProvider>();
    const routing = body ?? this.startup;
    if (routing !== null) {
      for (const [alias, { providers }] of Object.entries(routingPricesSchema.parse(routing).models)) {
        for (const provider of providers) next.set(`${alias}\u0000${provider.name}`, { model: provider.model, price: provider.price });
      }
    }
    this.providers = next;
  }

  providerOf(alias: string, provider: string): PricedProvider | undefined {
    return this.providers.get(`${alias}\u0000${provider}`);
  }

  /** What a finished request cost, in nano-dollars, at its provider's price (0 when unpriced). */
  costOf(alias: string, provider: string, usage: { promptTokens: number; completionTokens: number; cachedTokens?: number | undefined }): number {
    return costNanos({ promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, cachedTokens: usage.cachedTokens ?? 0 }, this.providerOf(alias, provider)?.price);
  }

  /** The highest input and output prices among an alias's providers: what a request may cost at most, before one answers. */
  dearest(alias: string): Price | undefined {
    let dearest: Price | undefined;
    for (const [key, { price }] of this.providers) {
      if (!price || !key.startsWith(`${alias}\u0000`)) continue;
      dearest = { input: Math.max(dearest?.input ?? 0, price.input), output: Math.max(dearest?.output ?? 0, price.output) };
    }
    return dearest;
  }

  /** Nano-dollars a request may cost at most: its estimated prompt and all of max_tokens at the dearest prices of its alias. */
  estimateNanos(alias: string, promptTokens: number, maxTokens: number): number {
    return costNanos({ promptTokens, completionTokens: maxTokens, cachedTokens: 0 }, this.dearest(alias));
  }
}
