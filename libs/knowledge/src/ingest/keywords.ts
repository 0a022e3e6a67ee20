// Common English function words and document boilerplate: never a document's topic.
const STOP = new Set(
  'about above after again against also among another because been before being below between both cannot could does doing down during each either every from further have having here hers herself himself into itself just least less more most much must myself neither nobody none nor not nothing now off once only other ought ours ourselves over own same shall should since some such than that their theirs them themselves then there these they this those through thus under until upon very were what when where whether which while whom whose will with within without would your yours yourself yourselves the and for are but was you his her its our out who how why can all any may one two use used using via per etc new see also get got has had our http https www com html'.split(
    ' ',
  ),
);

/**
 * A document's most telling words (for the `keywords` of `kb.document.indexed`, which e.g. the
 * intent scheduler matches against user interests): words of the title first, then the most
 * frequent content words (≥ 3 letters, not stop words, not numbers), lower case, at most `max`.
 */
export function extractKeywords(text: string, options: { title?: string; max?: number } = {}): string[] {
  const max = options.max ?? 12;
  const words = (value: string) => (value.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*[\p{L}\p{N}]|\p{Script=Han}{2,}/gu) ?? []).filter((w) => (w.length >= 3 || /\p{Script=Han}/u.test(w)) && !STOP.has(w) && !/^[\d'-]+$/.test(w));
  const counts = new Map<string, number>();
  for (const word of words(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  const title = [...new Set(words(options.title ?? ''))];
  const rest = [...counts].filter(([word, count]) => count > 1 && !title.includes(word)).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([word]) => word);
  return [...title, ...rest].slice(0, max).map((word) => word.slice(0, 128));
}
