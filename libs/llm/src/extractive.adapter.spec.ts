import type { ChatChunk, ChatStreamRequest, Passage } from './chat-model.port.ts';
import { ExtractiveResponder, extractTerms } from './extractive.adapter.ts';

async function collect(stream: AsyncIterable<ChatChunk>) {
  const deltas: string[] = [];
  let done: Extract<ChatChunk, { type: 'done' }> | undefined;
  for await (const chunk of stream) {
    if (chunk.type === 'delta') deltas.push(chunk.text);
    else if (chunk.type === 'done') done = chunk;
  }
  return { deltas, text: deltas.join(''), done };
}

const passages: Passage[] = [
  {
    text: 'Our office is open Monday to Friday. Refunds are issued within 14 days of a return. Shipping is free above 50 euros.',
    source: { docId: 'policy.md', version: 3, position: 0 },
  },
  { text: 'The cafeteria serves lunch from noon. Parking is available behind the building.', source: { docId: 'facilities.md' } },
];

function request(question: string, extra: Partial<ChatStreamRequest> = {}): ChatStreamRequest {
  return { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: question }], maxTokens: 512, passages, ...extra };
}

describe('ExtractiveResponder', () => {
  const responder = new ExtractiveResponder();

  it('says which passages it quoted, and none when nothing matches', async () => {
    expect((await collect(responder.stream(request('When are refunds issued?')))).done?.citedPassages).toEqual([0]);
    expect((await collect(responder.stream(request('Where can I park, and when is lunch?')))).done?.citedPassages).toEqual([1]);
    expect((await collect(responder.stream(request('Is there a swimming pool?')))).done?.citedPassages).toEqual([]);
  });

  it('is the embedded model named extractive', () => {
    expect(responder.model).toBe('extractive');
    expect(responder.name).toBe('extractive');
  });

  it('quotes the sentence that best matches the last user message and cites its source', async () => {
    const { text, done } = await collect(responder.stream(request('How long do refunds take?')));
    expect(text).toContain('"Refunds are issued within 14 days of a return." [1]');
    expect(text).toContain('[1] policy.md (version 3, position 0)');
    expect(text).not.toContain('cafeteria');
    expect(text).not.toContain('Shipping');
    expect(text).toMatch(/retrieval-only responder/);
    expect(done?.finishReason).toBe('stop');
  });

  it('numbers citations per source across passages', async () => {
    const { text } = await collect(responder.stream(request('Where is parking, and when are refunds issued?')));
    expect(text).toContain('Refunds are issued');
    expect(text).toContain('Parking is available');
    expect(text).toContain('[1] policy.md (version 3, position 0); [2] facilities.md');
  });

  it('says it has no knowledge when no passages were given, and that a chat model can be configured', async () => {
    const { text } = await collect(responder.stream(request('How long do refunds take?', { passages: [] })));
    expect(text).toMatch(/no knowledge to answer from/);
    expect(text).toMatch(/chat model .* can be configured/);
  });

  it('says so when no passage matches the question', async () => {
    const { text } = await collect(responder.stream(request('Quantum chromodynamics lattice?')));
    expect(text).toMatch(/none of the 2 passages I was given match your question/);
    expect(text).not.toContain('[1]');
  });

  it('streams word by word and counts usage in words', async () => {
    const { deltas, text, done } = await collect(responder.stream(request('How long do refunds take?')));
    expect(deltas.length).toBe(text.trim().split(/\s+/).length);
    expect(deltas.every((delta) => delta.trim().split(/\s+/).length === 1)).toBe(true);
    const promptWords = 2 + 5 + passages.reduce((sum, passage) => sum + passage.text.split(/\s+/).length, 0);
    expect(done?.usage).toEqual({ promptTokens: promptWords, completionTokens: deltas.length, totalTokens: promptWords + deltas.length });
  });

  it('stops at maxTokens with finishReason length', async () => {
    const { deltas, done } = await collect(responder.stream(request('How long do refunds take?', { maxTokens: 5 })));
    expect(deltas).toHaveLength(5);
    expect(done).toMatchObject({ finishReason: 'length', usage: { completionTokens: 5 } });
  });

  it('is deterministic', () => {
    expect(responder.answer(request('refunds and shipping'))).toBe(responder.answer(request('refunds and shipping')));
  });

  it('matches CJK text through character bigrams', () => {
    const answer = responder.answer({
      messages: [{ role: 'user', content: '退款需要多久？' }],
      passages: [{ text: '我们的办公室周一至周五开放。退款在十四天内处理。', source: { docId: 'zh.md' } }],
    });
    expect(answer).toContain('"退款在十四天内处理。" [1]');
    expect(answer).not.toContain('办公室');
  });

  it('rejects with the abort reason when aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const iterator = responder.stream(request('refunds', { signal: controller.signal }))[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort(reason);
    await expect(iterator.next()).rejects.toBe(reason);
  });
});

describe('extractTerms', () => {
  it('drops stopwords and folds plurals', () => {
    expect([...extractTerms('What are the refund policies for the orders?')].sort()).toEqual(['order', 'policy', 'refund']);
  });
});
