import { chatTurnsOf, IMAGE_GONE, itemsOfExchange, textItem, textTurnsOf } from './conversation-items.ts';

describe('conversation items', () => {
  it('keeps what the client said after the last answer and the new answer, not the instructions', () => {
    const items = itemsOfExchange(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'old question' },
        { role: 'assistant', content: 'old answer' },
        { role: 'user', content: 'new question' },
      ],
      { text: 'new answer' },
    );
    expect(items).toEqual([textItem('user', 'new question'), textItem('assistant', 'new answer')]);
  });

  it("keeps an answer's tool calls, and the tool results the next request brings", () => {
    const call = { id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' };
    const asked = itemsOfExchange([{ role: 'user', content: 'weather in Oslo?' }], { text: '', toolCalls: [call] });
    const answered = itemsOfExchange([{ role: 'tool', content: 'rain', toolCallId: 'c1' }], { text: 'It rains.' });
    expect([...asked, ...answered]).toEqual([
      textItem('user', 'weather in Oslo?'),
      { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call_output', call_id: 'c1', output: 'rain' },
      textItem('assistant', 'It rains.'),
    ]);
    // And back into chat turns: the calls join their assistant turn, the result is a tool turn.
    expect(chatTurnsOf([...asked, ...answered])).toEqual([
      { role: 'user', content: 'weather in Oslo?' },
      { role: 'assistant', content: '', toolCalls: [call] },
      { role: 'tool', content: 'rain', toolCallId: 'c1' },
      { role: 'assistant', content: 'It rains.' },
    ]);
    expect(textTurnsOf([...asked, ...answered])).toEqual([
      { role: 'user', content: 'weather in Oslo?' },
      { role: 'assistant', content: 'It rains.' },
    ]);
  });

  it('keeps an image by URL, and says so where a stored image (which expires with its task) was', () => {
    const ref = { key: `${'a'.repeat(32)}/t1/0`, mediaType: 'image/png' as const, bytes: 10 };
    const [item] = itemsOfExchange(
      [{ role: 'user', content: 'what are these?', parts: [{ type: 'text', text: 'what are these?' }, { type: 'image', url: 'https://example.com/a.png', detail: 'low' }, { type: 'image', ref }] }],
      { text: 'two cats' },
    );
    expect(item).toEqual({
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'what are these?' },
        { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'low' },
        { type: 'input_text', text: IMAGE_GONE },
      ],
    });
    expect(chatTurnsOf([item!])[0]).toEqual({
      role: 'user',
      content: `what are these?${IMAGE_GONE}`,
      parts: [
        { type: 'text', text: 'what are these?' },
        { type: 'image', url: 'https://example.com/a.png', detail: 'low' },
        { type: 'text', text: IMAGE_GONE },
      ],
    });
  });
});
