import TextMatcher from 'modern-ahocorasick/text';
import { graphemeCount, lastGraphemesStart, visibleLength, visibleText, type VisibleText } from './visible-text.ts';

/** A half-open range `[start, end)` of UTF-16 offsets into the original text. */
export type Span = readonly [start: number, end: number];

/**
 * Sensitive-word matching with Aho–Corasick (one pass whatever the number of words) on a
 * normalised form of the text: zero-width and other format characters removed, then NFKC
 * (fullwidth and compatibility forms, ligatures) and full Unicode case folding. Matches map back
 * to the original text's positions, so masking never depends on the normalised text keeping the
 * original's length. A masked word becomes one '*' per user-perceived character.
 *
 * Not covered on purpose: confusables across scripts (Cyrillic 'а' for Latin 'a') and letters
 * separated by visible characters ('d a r n'); both need a policy, not a normal form.
 */
export class WordFilter {
  private readonly matcher: TextMatcher | undefined;
  /**
   * The most grapheme clusters of (visible) text one match can span: what a streaming masker
   * must hold back. Every visible cluster normalises to at least one cluster, so a word of n
   * clusters after folding matches at most n of the text's.
   */
  readonly longest: number;
  /** Distinct words (after removing invisible characters and surrounding spaces). */
  readonly size: number;

  constructor(words: readonly string[]) {
    const patterns = [...new Set(words.map((word) => visibleText(word).text.trim()).filter(Boolean))];
    this.size = patterns.length;
    this.matcher = patterns.length > 0 ? new TextMatcher(patterns, { normalization: 'NFKC', caseFold: true }) : undefined;
    const folded = patterns.map((p) => graphemeCount(p.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC')));
    this.longest = Math.max(0, ...folded, ...patterns.map(graphemeCount), this.matcher?.getStats().maxPatternUnits ?? 0);
  }

  matches(text: string): boolean {
    return this.matcher?.match(visibleText(text).text) ?? false;
  }

  /** The ranges of the original text to mask, sorted and merged. */
  spans(text: string): Span[] {
    return mergeSpans(this.spansOf(visibleText(text)));
  }

  mask(text: string): string {
    return renderMasked(text, this.spans(text));
  }

  /**
   * JSON text (a tool call's arguments, structured output) with the words masked in its string
   * values only: the result is the same JSON with the same keys, numbers and escapes, so it still
   * parses and still fits its schema's shape. Text that is not JSON is masked as text.
   */
  maskJson(text: string): string {
    if (this.size === 0) return text;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.mask(text);
    }
    const masked = this.maskStrings(value);
    return masked === value ? text : JSON.stringify(masked);
  }

  /** Any JSON value with the words masked in its strings (not its keys); the same value when nothing was masked. */
  maskStrings<T>(value: T): T {
    return this.maskValues(value) as T;
  }

  private maskValues(value: unknown): unknown {
    if (typeof value === 'string') return this.mask(value);
    if (Array.isArray(value)) {
      const items = value.map((item) => this.maskValues(item));
      return items.some((item, index) => item !== value[index]) ? items : value;
    }
    if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value).map(([key, item]) => [key, this.maskValues(item)] as const);
      return entries.some(([key, item]) => item !== (value as Record<string, unknown>)[key]) ? Object.fromEntries(entries) : value;
    }
    return value;
  }

  /** Whether any string inside a JSON-like value (tool definitions, arguments) matches. */
  matchesIn(value: unknown): boolean {
    if (typeof value === 'string') return this.matches(value);
    if (Array.isArray(value)) return value.some((item) => this.matchesIn(item));
    if (typeof value === 'object' && value !== null) return Object.values(value).some((item) => this.matchesIn(item));
    return false;
  }

  /**
   * For a streaming masker, on the text received so far: the matches later text cannot change
   * (those ending before the last character, which the next chunk may still extend, e.g. with a
   * combining accent), and where the tail to hold back starts — the last `longest` characters,
   * where a match completed by later text could begin.
   */
  settled(text: string): { spans: Span[]; holdFrom: number } {
    const visible = visibleText(text);
    const last = visible.origin(lastGraphemesStart(visible.text, 1));
    return {
      spans: mergeSpans(this.spansOf(visible).filter(([, end]) => end <= last)),
      holdFrom: visible.origin(lastGraphemesStart(visible.text, this.longest)),
    };
  }

  /** Every match, overlapping ones included, in original coordinates. */
  private spansOf(visible: VisibleText): Span[] {
    if (!this.matcher) return [];
    return this.matcher.search(visible.text).map(({ start, end }): Span => [visible.origin(start), visible.origin(end - 1) + 1]);
  }
}

export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** `text` with each span replaced by one '*' per visible character; spans must be sorted and disjoint. */
export function renderMasked(text: string, spans: readonly Span[]): string {
  let out = '';
  let cursor = 0;
  for (const [start, end] of spans) {
    const from = Math.max(start, cursor);
    const to = Math.min(end, text.length);
    if (to <= from) continue;
    out += text.slice(cursor, from) + '*'.repeat(visibleLength(text.slice(from, to)));
    cursor = to;
  }
  return out + text.slice(cursor);
}
