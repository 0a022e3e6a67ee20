import { WordFilter } from './word-filter.ts';

describe('WordFilter', () => {
  const filter = new WordFilter(['darn', 'heck', '坏词', 'straße', 'café']);

  it('finds and masks words case-insensitively, one * per character', () => {
    expect(filter.matches('Oh DARN it')).toBe(true);
    expect(filter.matches('all good')).toBe(false);
    expect(filter.mask('Oh DARN it, heck! 这是坏词')).toBe('Oh **** it, ****! 这是**');
  });

  it('does nothing without words', () => {
    expect(new WordFilter([]).mask('darn')).toBe('darn');
    expect(new WordFilter(['  ', '\u200b']).matches('darn')).toBe(false);
  });

  it('still masks when case folding changes the length of the text (a dotted capital I)', () => {
    // 'İ'.toLowerCase() is two UTF-16 units: masking used to give up and return the text as it was.
    expect(filter.mask('İ said DARN')).toBe('İ said ****');
    expect(filter.mask('STRASSE und Straße')).toBe('******* und ******');
  });

  it('matches fullwidth and compatibility forms (NFKC)', () => {
    expect(filter.matches('ｄａｒｎ')).toBe(true);
    expect(filter.mask('oh ＤＡＲＮ!')).toBe('oh ****!');
    expect(new WordFilter(['fine']).mask('ﬁne day')).toBe('*** day');
    expect(filter.mask('CAFE\u0301 or café')).toBe('**** or ****');
  });

  it('sees through zero-width and other invisible format characters, and masks them with the word', () => {
    for (const hidden of ['d\u200barn', 'd\u200ca\u200drn', 'da\u00adrn', '\ufeffdarn', 'dar\u2060n', 'h\u180eeck', 'd\u{e0041}arn']) {
      expect(filter.matches(hidden)).toBe(true);
    }
    expect(filter.mask('oh d\u200ba\u200brn!')).toBe('oh ****!');
    // Invisible characters outside a word are left alone (joiners in emoji, bidi marks in text).
    expect(filter.mask('\u200fa\u200db darn')).toBe('\u200fa\u200db ****');
  });

  it('normalises the words too', () => {
    expect(new WordFilter(['ＤＡＲＮ']).mask('darn')).toBe('****');
    expect(new WordFilter(['d\u200barn']).mask('DARN')).toBe('****');
  });

  it('keeps masking everything when text around a word changes length under normalisation', () => {
    expect(filter.mask('㍿ ＤＡＲＮ ﬁ İİ heck')).toBe('㍿ **** ﬁ İİ ****');
  });

  // Regression (review of issue 14): masking tool-call arguments as text broke them — a number on
  // the list turned `{"n":1488}` into `{"n":****}`, a word after a backslash made an invalid escape.
  it('masks JSON in its string values only, so it still parses with the same keys and numbers', () => {
    const filter = new WordFilter(['1488', 'nazi', 'darn', 'ass']);
    const masked = filter.maskJson('{"class":"darn it","n":1488,"note":"line\\nazimuth","tags":["ok","nazi"]}');
    expect(JSON.parse(masked)).toEqual({ class: '**** it', n: 1488, note: 'line\nazimuth', tags: ['ok', '****'] });
    expect(filter.maskJson('{"a":1}')).toBe('{"a":1}'); // untouched, byte for byte
    expect(filter.maskJson('not json, darn')).toBe('not json, ****');
    expect(filter.matchesIn({ tools: [{ function: { description: 'say darn' } }] })).toBe(true);
    expect(filter.matchesIn({ tools: [{ function: { name: 'weather' } }], n: 1488 })).toBe(false);
  });
});

