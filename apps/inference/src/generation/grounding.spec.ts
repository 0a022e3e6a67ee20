import type { ChatChunk, ChatModelPort, ChatStreamRequest } from '@aip/llm';
import { lastUserTurn, searchQuery, toGrounding, usedSources } from './grounding.ts';

function model(name: string, reply: string | Error, seen: ChatStreamRequest[] = []): ChatModelPort {
  return {
    name,
    model: name,
    forwards: false,
    async *stream(request: ChatStreamRequest): AsyncIterable<ChatChunk> {
      seen.push(request);
      if (reply instanceof Error) throw reply;
      yield { type: 'delta', text: reply };
      yield { type: 'done', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 }, finishReason: 'stop' };
    },
  };
}

const history = [
  { role: 'user' as const, content: 'What are the sights in Hangzhou?' },
  { role: 'assistant' as const, content: 'West Lake and Lingyin Temple.' },
];

describe('search query for retrieval', () => {
  it('is the last user turn', () => {
    expect(lastUserTurn([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }, { role: 'assistant', content: 'd' }])).toBe('c');
    expect(lastUserTurn([{ role: 'system', content: 'x' }])).toBeUndefined();
  });

  it('is rewritten into a standalone question by a language model when there is history', async () => {
    const seen: ChatStreamRequest[] = [];
    const query = await searchQuery({ question: 'and how do I get there?', history, model: model('gpt', '"How to get to West Lake in Hangzhou"', seen) });
    expect(query).toBe('How to get to West Lake in Hangzhou');
    expect(seen[0]?.messages.at(-1)?.content).toContain('West Lake and Lingyin Temple.');
  });

  it("keeps the user's words without history, with the retrieval-only responder, or when the model fails", async () => {
    const question = 'and how do I get there?';
    expect(await searchQuery({ question, history: [], model: model('gpt', 'rewritten') })).toBe(question);
    expect(await searchQuery({ question, history, model: model('extractive', 'rewritten') })).toBe(question);
    expect(await searchQuery({ question, history, model: model('gpt', new Error('upstream down')) })).toBe(question);
    expect(await searchQuery({ question, history, model: model('gpt', '   ') })).toBe(question);
    expect(await searchQuery({ question, history })).toBe(question);
  });
});

describe('grounding', () => {
  it('hands passages to the model and sources to the client, with citations', () => {
    const grounding = toGrounding([
      { text: 'West Lake is free to visit.', score: 0.034_567_8, source: { kbId: 'travel', docId: 'hz', version: 'v2', position: 3, title: 'Hangzhou guide' } },
      { text: 'Lingyin Temple opens at 7.', score: 0.02, source: { kbId: 'travel', docId: 'temples', version: 'v1', position: 0 } },
      { text: 'Trains leave hourly.', score: 0.01, source: { kbId: 'travel', docId: 'trains.md', version: 'v1', position: 2, title: 'trains.md' } },
    ]);
    expect(grounding.passages).toEqual([
      { text: 'West Lake is free to visit.', source: { docId: 'Hangzhou guide (hz)', version: 'v2', position: 3 } },
      { text: 'Lingyin Temple opens at 7.', source: { docId: 'temples', version: 'v1', position: 0 } },
      { text: 'Trains leave hourly.', source: { docId: 'trains.md', version: 'v1', position: 2 } },
    ]);
    expect(grounding.sources).toEqual([
      { kbId: 'travel', docId: 'hz', version: 'v2', position: 3, title: 'Hangzhou guide', score: 0.0346 },
      { kbId: 'travel', docId: 'temples', version: 'v1', position: 0, score: 0.02 },
      { kbId: 'travel', docId: 'trains.md', version: 'v1', position: 2, title: 'trains.md', score: 0.01 },
    ]);
  });
});

describe('usedSources', () => {
  const passage = (docId: string) => ({ text: `about ${docId}`, score: 0.016, source: { kbId: 'kb', docId, version: '1', position: 0 } });
  const grounding = toGrounding([passage('beijing'), passage('hangzhou'), passage('xian')]);

  // Regression (issue 14): "none of the passages match" still listed every passage as a source.
  it('keeps only the passages the answer used: as the model says, or as the text cites them', () => {
    expect(usedSources(grounding, 'No passage matches your question.', [])).toEqual([]);
    expect(usedSources(grounding, 'whatever', [2]).map((source) => source.docId)).toEqual(['xian']);
    expect(usedSources(grounding, 'The Forbidden City [1] and West Lake [2]; again [1]. See [9].').map((source) => source.docId)).toEqual(['beijing', 'hangzhou']);
    expect(usedSources(grounding, 'I could not find it in the passages.')).toEqual([]);
  });
});
