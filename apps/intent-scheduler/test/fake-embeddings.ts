import { Embeddings } from '@langchain/core/embeddings';

/**
 * Deterministic embeddings whose geometry a test controls: one axis per topic, a text's vector
 * counts the topic words it contains (plus a small constant axis so no vector is zero). Texts
 * listed in `exact` get exactly the given vector.
 */
export class TopicEmbeddings extends Embeddings {
  readonly calls: string[][] = [];
  failNext = false;

  constructor(
    private readonly topics: readonly (readonly string[])[],
    private readonly exact: ReadonlyMap<string, number[]> = new Map(),
  ) {
    super({});
  }

  vector(text: string): number[] {
    const fixed = this.exact.get(text);
    if (fixed) return fixed;
    const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u);
    return [...this.topics.map((topic) => words.filter((word) => topic.includes(word)).length), 0.1];
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls.push(texts);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('embedding model unavailable');
    }
    return texts.map((text) => this.vector(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector = []] = await this.embedDocuments([text]);
    return vector;
  }
}

/** Topics for the default catalogue's intents. */
export const TRAVEL_TOPICS = [
  ['sights', 'see', 'attractions', 'things', 'visit', 'visiting', 'museums', 'landmarks', 'must'],
  ['flights', 'train', 'get', 'travel', 'cheapest'],
  ['cook', 'recipe', 'roast', 'dinner', 'make', 'cake'],
  ['crashing', 'error', 'turn', 'dropping', 'connection', 'wifi', 'laptop'],
  ['explain', 'teach', 'basics', 'understand', 'difference', 'learn'],
] as const;
