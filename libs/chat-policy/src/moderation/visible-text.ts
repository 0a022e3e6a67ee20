/**
 * Characters that render as nothing: format characters (zero-width space and joiners, soft
 * hyphen, bidi marks, BOM, tag characters) and the other default-ignorable code points (variation
 * selectors, Hangul fillers, CGJ). Hidden between the letters of a word they would defeat matching.
 */
const IGNORABLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** A text without its ignorable characters, and where each remaining UTF-16 unit stands in the original. */
export interface VisibleText {
  readonly text: string;
  /** Original index of the visible text's unit `index`; the original's length past the end. */
  origin(index: number): number;
}

export function visibleText(original: string): VisibleText {
  if (!IGNORABLE.test(original)) return { text: original, origin: (index) => Math.min(index, original.length) };
  const origins: number[] = [];
  let text = '';
  for (let i = 0; i < original.length; ) {
    const width = (original.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    const char = original.slice(i, i + width);
    if (!IGNORABLE.test(char)) {
      text += char;
      origins.push(i);
      if (width === 2) origins.push(i + 1);
    }
    i += width;
  }
  return { text, origin: (index) => origins[index] ?? original.length };
}

/** User-perceived characters, ignorables not counted: how many '*' a masked span becomes. */
export function visibleLength(original: string): number {
  if (PRINTABLE_ASCII.test(original)) return original.length;
  let count = 0;
  for (const _ of graphemes.segment(visibleText(original).text)) count++;
  return count;
}

/**
 * Where the last `count` grapheme clusters of `text` start (0 when it has fewer). Random access
 * from the end: a streaming masker calls this on every chunk and only needs the tail.
 */
export function lastGraphemesStart(text: string, count: number): number {
  const segments = graphemes.segment(text);
  let start = text.length;
  for (let taken = 0; taken < count && start > 0; taken++) start = segments.containing(start - 1)?.index ?? 0;
  return start;
}

export function graphemeCount(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}
