import type { ModelCatalog } from './models/model-catalog.ts';
import { wordsDocumentSchema, type Moderation } from './moderation/moderation.service.ts';

// What a new version of each run-time document the edges follow does (access and rtc-push apply
// them the same way, through `documentWatch` of @aip/runtime). Each throws on an invalid version,
// which keeps the previous one in force.

/** The `routing` document: its aliases become the models served (null: the start-up `MODELS`). */
export const applyRoutingDocument = (catalog: ModelCatalog) => (body: unknown) => {
  catalog.applyRouting(body);
  return { models: catalog.aliases };
};

/** The `words` document: the sensitive-word lists and policy of both edges (null: the start-up ones). */
export const applyWordsDocument = (moderation: Moderation) => (body: unknown) => {
  moderation.apply(body === null ? moderation.startup : wordsDocumentSchema.parse(body));
  return { words: moderation.filter.size };
};
