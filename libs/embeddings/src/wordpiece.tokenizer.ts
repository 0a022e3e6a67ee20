import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';

/**
 * The model's own tokenizer: BERT uncased WordPiece (clean text, CJK characters split, lower-case,
 * accents stripped, punctuation split, ##-continuations, [CLS] … [SEP]) as defined by the
 * tokenizer.json shipped in the model's jar, run by @huggingface/tokenizers (pure JS). Truncation
 * is ours: the library does none, and we need the same cut as langchain4j (first maxTokens − 2
 * word pieces, then [SEP]).
 */
export class WordPieceTokenizer {
  readonly maxTokens: number;
  private readonly tokenizer: Tokenizer;
  private readonly sepId: number;

  constructor(definition: object, maxTokens: number) {
    this.tokenizer = new Tokenizer(definition, {});
    this.maxTokens = maxTokens;
    const sep = this.tokenizer.token_to_id('[SEP]');
    if (sep === undefined) throw new Error('tokenizer definition has no [SEP] token: not a BERT WordPiece tokenizer');
    this.sepId = sep;
    if (this.tokenizer.token_to_id('[CLS]') === undefined) throw new Error('tokenizer definition has no [CLS] token: not a BERT WordPiece tokenizer');
  }

  static async fromFile(file: string, maxTokens: number): Promise<WordPieceTokenizer> {
    return new WordPieceTokenizer(JSON.parse(await readFile(file, 'utf8')) as object, maxTokens);
  }

  /** Token ids with [CLS] and [SEP], at most maxTokens of them. */
  encode(text: string): number[] {
    const { ids } = this.tokenizer.encode(text);
    return truncateIds(ids, this.maxTokens, this.sepId);
  }

  /** Word pieces with [CLS] and [SEP], truncated like encode (for diagnostics and chunk sizing). */
  tokenize(text: string): string[] {
    const { tokens } = this.tokenizer.encode(text);
    if (tokens.length <= this.maxTokens) return tokens;
    return [...tokens.slice(0, this.maxTokens - 1), '[SEP]'];
  }

  /** Word pieces of the text before truncation, [CLS] and [SEP] excluded. */
  countTokens(text: string): number {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  }
}

/** Keeps [CLS] and the first maxTokens − 2 word pieces, and ends the sequence with [SEP]. */
export function truncateIds(ids: readonly number[], maxTokens: number, sepId: number): number[] {
  if (maxTokens < 2) throw new RangeError(`maxTokens must leave room for [CLS] and [SEP], got ${maxTokens}`);
  if (ids.length <= maxTokens) return [...ids];
  return [...ids.slice(0, maxTokens - 1), sepId];
}
