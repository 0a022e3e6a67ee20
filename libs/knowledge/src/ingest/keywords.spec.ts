import { extractKeywords } from './keywords.ts';

describe('extractKeywords', () => {
  it('puts title words first, then the most frequent content words, without stop words or numbers', () => {
    const text = 'Hotels in Beijing. The best hotels are near the Forbidden City. Hotels fill up in 2024; book hotels early. Beijing duck, Beijing duck.';
    expect(extractKeywords(text, { title: 'Beijing hotel guide', max: 5 })).toEqual(['beijing', 'hotel', 'guide', 'hotels', 'duck']);
  });

  it('keeps Chinese terms and caps the list', () => {
    expect(extractKeywords('北京 酒店 北京 酒店 故宫', { max: 2 })).toEqual(['北京', '酒店']);
    expect(extractKeywords('the and of 2024 2024')).toEqual([]);
  });
});
