import { mergeSpans, renderMasked, type Span, type WordFilter } from './word-filter.ts';

/**
 * Masks a streamed answer, including words split across chunks (or split inside a character:
 * a surrogate pair, a letter and its combining accent, a zero-width character between letters).
 * It holds back the tail where a word completed by the next chunk could start — the last
 * `filter.longest` visible characters and any ignorable characters among them — and remembers
 * which parts of that tail are already known to be masked, so a word that started in text
 * already sent stays masked to its end.
 */
export class StreamMasker {
  private pending = '';
  /** Spans of `pending` already matched (a word that began in text released earlier). */
  private carried: Span[] = [];

  constructor(private readonly filter: WordFilter) {}

  push(chunk: string): string {
    if (this.filter.longest === 0) return chunk;
    const text = this.pending + chunk;
    const settled = this.filter.settled(text);
    const spans = mergeSpans([...this.carried, ...settled.spans]);
    const cut = settled.holdFrom;
    this.pending = text.slice(cut);
    this.carried = spans.filter(([, end]) => end > cut).map(([start, end]): Span => [Math.max(start, cut) - cut, end - cut]);
    return renderMasked(text.slice(0, cut), spans);
  }

  end(): string {
    const rest = renderMasked(this.pending, mergeSpans([...this.carried, ...this.filter.spans(this.pending)]));
    this.pending = '';
    this.carried = [];
    return rest;
  }
}
