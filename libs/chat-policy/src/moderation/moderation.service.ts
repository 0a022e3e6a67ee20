import { z } from 'zod';
import { WordFilter } from './word-filter.ts';

/** The `words` run-time document (`PUT /admin/config/words` on access), read by access and rtc-push. */
export const wordsDocumentSchema = z.object({
  words: z.array(z.string().min(1).max(128)).max(100_000),
  /** What a request containing a word gets: refused, or masked before it goes on. Answers are always masked. */
  input: z.enum(['block', 'mask']).default('block'),
});
export type WordsDocument = z.infer<typeof wordsDocumentSchema>;

/**
 * The word list in force, replaced as a whole when the `words` document changes. One instance per
 * app; every chat entry point (access's HTTP API, rtc-push's socket and SSE chat) goes through it.
 */
export class Moderation {
  filter: WordFilter;
  input: 'block' | 'mask';

  /** `startup`: the app's SENSITIVE_WORDS settings, in force again when the `words` document is deleted. */
  constructor(readonly startup: WordsDocument) {
    this.filter = new WordFilter(startup.words);
    this.input = startup.input;
  }

  /** Builds the new filter before swapping: a document that fails to build leaves the old list in force. */
  apply(document: WordsDocument): void {
    const filter = new WordFilter(document.words);
    this.filter = filter;
    this.input = document.input;
  }

  /**
   * A request's messages as they may enter the request path: unchanged, masked (`input: mask`),
   * or undefined when one contains a word and the policy is `block`.
   */
  screen<M extends { content: string }>(messages: readonly M[]): M[] | undefined {
    const { filter, input } = this;
    if (input === 'block') return messages.some((m) => filter.matches(m.content)) ? undefined : [...messages];
    return messages.map((m) => ({ ...m, content: filter.mask(m.content) }));
  }
}
