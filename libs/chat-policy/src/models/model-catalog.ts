import { z } from 'zod';

/**
 * The part of the `routing` run-time document (`modelRoutingSchema` of @aip/llm, validated when
 * it is written) that the edges need: its aliases are the models served.
 */
export const routingAliasesSchema = z.object({ models: z.record(z.string(), z.unknown()) });

/** The model aliases served: the apps' `MODELS` at start, then the routing document's aliases. */
export class ModelCatalog {
  aliases: string[];

  constructor(private readonly startup: string[]) {
    this.aliases = startup;
  }

  /** A routing document's aliases; null (the document was deleted): the start-up `MODELS` again. */
  applyRouting(body: unknown): void {
    this.aliases = body === null ? this.startup : Object.keys(routingAliasesSchema.parse(body).models);
  }
}
