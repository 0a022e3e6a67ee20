import AhoCorasick from 'modern-ahocorasick';

/**
 * Sensitive-word matching with Aho–Corasick (one pass whatever the number of words),
 * case-insensitive. Masking keeps the text's length: each matched character becomes '*'.
 */
export class WordFilter {
  private readonly matcher: AhoCorasick | undefined;
  /** Length of the longest word: how much text a streaming filter must hold back. */
  readonly longest: number;

  constructor(words: readonly string[]) {
    const patterns = [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))];
    this.matcher = patterns.length > 0 ? new AhoCorasick(patterns) : undefined;
    this.longest = Math.max(0, ...patterns.map((p) => p.length));
  }

  matches(text: string): boolean {
    return this.matcher?.match(text.toLowerCase()) ?? false;
  }

  mask(text: string): string {
    if (!this.matcher) return text;
    const lower = text.toLowerCase();
    // toLowerCase keeps UTF-16 lengths for the scripts we match; fall back to no masking otherwise.
    if (lower.length !== text.length) return text;
    let out = '';
    let cursor = 0;
    for (const { start, end } of this.matcher.search(lower).sort((a, b) => a.start - b.start)) {
      if (end <= cursor) continue;
      out += text.slice(cursor, Math.max(cursor, start)) + '*'.repeat(end - Math.max(cursor, start));
      cursor = end;
    }
    return out + text.slice(cursor);
  }
}

/**
 * Masks a streamed answer, including words split across chunks: it holds back the last
 * `longest - 1` characters until the next chunk (or the end) shows whether they start a word.
 */
export class StreamMasker {
  private pending = '';

  constructor(private readonly filter: WordFilter) {}

  push(chunk: string): string {
    if (this.filter.longest === 0) return chunk;
    const masked = this.filter.mask(this.pending + chunk);
    const keep = Math.min(masked.length, this.filter.longest - 1);
    this.pending = masked.slice(masked.length - keep);
    return masked.slice(0, masked.length - keep);
  }

  end(): string {
    const rest = this.filter.mask(this.pending);
    this.pending = '';
    return rest;
  }
}
