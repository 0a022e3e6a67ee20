import { StreamMasker } from './stream-masker.ts';
import { WordFilter } from './word-filter.ts';

const stream = (filter: WordFilter, chunks: readonly string[]) => {
  const masker = new StreamMasker(filter);
  return chunks.map((c) => masker.push(c)).join('') + masker.end();
};

describe('StreamMasker', () => {
  it('masks a word split across chunk boundaries and emits everything exactly once', () => {
    expect(stream(new WordFilter(['darn', 'heck']), ['Oh d', 'a', 'rn it, he', 'ck', ' no'])).toBe('Oh **** it, **** no');
  });

  it('holds back no more than the longest word', () => {
    // The last character is always held: the next chunk may extend it (a combining accent).
    const masker = new StreamMasker(new WordFilter(['darn']));
    expect(masker.push('hello world')).toBe('hello w');
    expect(masker.end()).toBe('orld');
  });

  it('masks a normalised word split across chunks, inside characters too', () => {
    const filter = new WordFilter(['darn', 'café', '💩']);
    expect(stream(filter, ['oh Ｄ', 'Ａ\u200b', 'ＲＮ!'])).toBe('oh ****!');
    expect(stream(filter, ['a\ud83d', '\udca9b'])).toBe('a*b');
    expect(stream(filter, ['I like caf', 'e', '\u0301 au lait'])).toBe('I like **** au lait');
    expect(stream(filter, ['xxxxxxxxxxxxd\u200b\u200b\u200b\u200b\u200ba', 'r', 'n and more'])).toBe('xxxxxxxxxxxx**** and more');
  });

  it('does not mask a word that the next chunk turns into another one', () => {
    // "cafe" + combining acute is "café", not "cafe".
    expect(stream(new WordFilter(['cafe']), ['a cafe', '\u0301 here'])).toBe('a cafe\u0301 here');
  });

  it('gives the same text as masking the whole answer at once, however it is chunked', () => {
    const filter = new WordFilter(['darn', 'heck', '坏词', 'straße', 'café', '💩', 'ﬁne']);
    const text = 'İ DA\u200bRN ｈｅｃｋ! 这是坏词 STRASSE cafe\u0301 💩 fine\u200d 👩\u200d👩 darnheck';
    const whole = filter.mask(text);
    expect(whole).not.toBe(text);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j += 3) {
        expect(stream(filter, [text.slice(0, i), text.slice(i, j), text.slice(j)])).toBe(whole);
      }
    }
    expect(stream(filter, text.split(''))).toBe(whole); // one UTF-16 unit at a time
  });
});
