import { z } from 'zod';
import { WordFilter } from './word-filter.ts';

export const wordsDocumentSchema = z.object({
  words: z.array(z.string().min(1).max(128)).max(100_000),
  input: z.enum(['block', 'mask']).default('block'),
});
export type WordsDocument = z.infer<typeof wordsDocumentSchema>;

/** The word list in force; replaced as a whole when the `words` document changes. */
export class Moderation {
  filter: WordFilter;
  input: 'block' | 'mask';

  constructor(initial: WordsDocument) {
    this.filter = new WordFilter(initial.words);
    this.input = initial.input;
  }

  apply(document: WordsDocument): void {
    this.filter = new WordFilter(document.words);
    this.input = document.input;
  }
}
