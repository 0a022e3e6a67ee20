import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { Catalogue } from '@aip/contracts';
import { cosineSimilarity } from '@aip/embeddings';
import type { Classification, IntentClassifier } from './classifier.port.ts';
import { maskSlots, slotRulesOf } from './slots.ts';

export interface IntentScore {
  intent: string;
  score: number;
}

/** Scores per intent (its closest example), best first. */
export function rankIntents(query: readonly number[], examples: readonly { intent: string; vector: readonly number[] }[]): IntentScore[] {
  const best = new Map<string, number>();
  for (const example of examples) {
    const score = cosineSimilarity(query, example.vector);
    if (score > (best.get(example.intent) ?? -Infinity)) best.set(example.intent, score);
  }
  return [...best].map(([intent, score]) => ({ intent, score })).sort((a, b) => b.score - a.score);
}

/**
 * A clear winner or nothing: the best intent must reach its threshold and beat the runner-up
 * (another intent) by the margin, so a turn that sits between two intents leads to no prompt.
 */
export function pickIntent(ranked: readonly IntentScore[], threshold: (intent: string) => number, margin: number): IntentScore | undefined {
  const [best, second] = ranked;
  if (!best || best.score < threshold(best.intent)) return undefined;
  if (second && best.score - second.score < margin) return undefined;
  return best;
}

/**
 * The default classifier: embeddings of the example phrases (once per catalogue) against each of
 * the recent user turns, newest first; the first turn with a clear winner decides. Slot values
 * are masked on both sides (see maskSlots).
 */
export class EmbeddingClassifier implements IntentClassifier {
  readonly name = 'embedding';
  private cache: { catalogue: Catalogue; examples: Promise<{ intent: string; vector: number[] }[]>; mask: (text: string) => string } | undefined;

  constructor(private readonly embeddings: EmbeddingsInterface) {}

  private prepared(catalogue: Catalogue) {
    if (this.cache?.catalogue !== catalogue) {
      const rules = slotRulesOf(catalogue.intents);
      const mask = (text: string) => maskSlots(text, rules);
      const phrases = catalogue.intents.filter((intent) => intent.trigger === 'user_turns').flatMap((intent) => intent.examples.map((text) => ({ intent: intent.id, text })));
      const examples = this.embeddings.embedDocuments(phrases.map((p) => mask(p.text))).then((vectors) => phrases.map((p, i) => ({ intent: p.intent, vector: vectors[i] ?? [] })));
      // A failed embedding run must not stick: the next tick tries again.
      examples.catch(() => {
        if (this.cache?.examples === examples) this.cache = undefined;
      });
      this.cache = { catalogue, examples, mask };
    }
    return this.cache;
  }

  async classify(texts: readonly string[], catalogue: Catalogue): Promise<Classification | undefined> {
    const candidates = texts.slice(0, catalogue.userTurns);
    if (candidates.length === 0) return undefined;
    const prepared = this.prepared(catalogue);
    const examples = await prepared.examples;
    if (examples.length === 0) return undefined;
    const vectors = await this.embeddings.embedDocuments(candidates.map(prepared.mask));
    const thresholds = new Map(catalogue.intents.map((intent) => [intent.id, intent.threshold ?? catalogue.threshold]));
    for (const [turn, vector] of vectors.entries()) {
      const picked = pickIntent(rankIntents(vector, examples), (intent) => thresholds.get(intent) ?? catalogue.threshold, catalogue.margin);
      if (picked) return { intent: picked.intent, score: picked.score, turn };
    }
    return undefined;
  }
}
