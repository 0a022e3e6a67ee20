import { StreamMasker, WordFilter } from './word-filter.ts';

describe('WordFilter', () => {
  const filter = new WordFilter(['darn', 'heck', '坏词']);

  it('finds and masks words case-insensitively, keeping the length', () => {
    expect(filter.matches('Oh DARN it')).toBe(true);
    expect(filter.matches('all good')).toBe(false);
    expect(filter.mask('Oh DARN it, heck! 这是坏词')).toBe('Oh **** it, ****! 这是**');
  });

  it('does nothing without words', () => {
    expect(new WordFilter([]).mask('darn')).toBe('darn');
  });
});

describe('StreamMasker', () => {
  it('masks a word split across chunk boundaries and emits everything exactly once', () => {
    const masker = new StreamMasker(new WordFilter(['darn', 'heck']));
    const chunks = ['Oh d', 'a', 'rn it, he', 'ck', ' no'];
    const out = chunks.map((c) => masker.push(c)).join('') + masker.end();
    expect(out).toBe('Oh **** it, **** no');
  });

  it('holds back no more than the longest word minus one', () => {
    const masker = new StreamMasker(new WordFilter(['darn']));
    expect(masker.push('hello world')).toBe('hello wo');
    expect(masker.end()).toBe('rld');
  });
});
