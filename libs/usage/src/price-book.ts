import { z } from 'zod';
import type { Price } from './usage-entry.ts';

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
}
