import { assemblePrompt } from './prompt.ts';

describe('assemblePrompt', () => {
  const messages = [{ role: 'user' as const, content: 'and hotels?' }];

  it('puts profile tags first as a system message and the request last', () => {
    const prompt = assemblePrompt({ profile: { city: 'Beijing', lang: 'en' }, history: [], messages, historyBudget: 100 });
    expect(prompt).toEqual([{ role: 'system', content: 'What we know about the user: city: Beijing; lang: en.' }, ...messages]);
  });

  it('keeps the newest history that fits the token budget, in order', () => {
    const history = [
      { role: 'user' as const, content: 'a '.repeat(200) },
      { role: 'assistant' as const, content: 'old answer' },
      { role: 'user' as const, content: 'sights in Beijing?' },
      { role: 'assistant' as const, content: 'The Forbidden City.' },
    ];
    const prompt = assemblePrompt({ profile: {}, history, messages, historyBudget: 30 });
    expect(prompt.map((m) => m.content)).toEqual(['old answer', 'sights in Beijing?', 'The Forbidden City.', 'and hotels?']);
  });

  it('drops all history when the budget is zero', () => {
    expect(assemblePrompt({ profile: {}, history: [{ role: 'user', content: 'x' }], messages, historyBudget: 0 })).toEqual(messages);
  });
});
