import { chatRequestSchema, nestedDeeperThan } from './chat-request.schema.ts';

const request = (user: string) => ({ model: 'extractive', messages: [{ role: 'user', content: 'hi' }], user });

describe('chat request schema', () => {
  // Regression (fuzz suite): a `user` of 129-256 characters passed here and failed the id rule of
  // the event it travels in, a 500 instead of a 400.
  it('takes a `user` only when it is an id the rest of the platform can carry', () => {
    const schema = chatRequestSchema(64);
    expect(schema.safeParse(request('u'.repeat(128))).success).toBe(true);
    expect(schema.safeParse(request('alice@example.com')).success).toBe(true);
    for (const user of ['a'.repeat(129), 'line\nbreak', 'nul\u0000', '\uD800', '   ']) {
      const result = schema.safeParse(request(user));
      expect({ user, path: result.success ? undefined : result.error.issues[0]?.path }).toEqual({ user, path: ['user'] });
    }
  });
});

describe('the forwarded OpenAI fields', () => {
  const schema = chatRequestSchema(64);
  const issue = (body: Record<string, unknown>) => {
    const result = schema.safeParse({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }], ...body });
    return result.success ? undefined : result.error.issues[0]?.path.join('.');
  };

  it('checks their shape now, so a malformed one is a 400 naming it rather than a provider error later', () => {
    expect(issue({ tools: [{ type: 'function', function: { name: 'get weather' } }] })).toBe('tools.0.function.name');
    expect(issue({ response_format: { type: 'xml' } })).toBe('response_format.type');
    expect(issue({ stop: ['a', 'b', 'c', 'd', 'e'] })).toBe('stop');
    expect(issue({ logit_bias: { hello: 5 } })).toBe('logit_bias.hello');
    expect(issue({ tool_choice: 'required' })).toBe('tool_choice');
    expect(issue({ tools: [{ type: 'function', function: { name: 'weather' } }], tool_choice: { type: 'function', function: { name: 'time' } } })).toBe('tool_choice');
    expect(issue({ tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }], tool_choice: { type: 'function', function: { name: 'weather' } }, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } }, seed: 1, stop: null })).toBeUndefined();
  });

  it('takes the turns of a tool round trip, and only well-formed ones', () => {
    const call = { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Beijing"}' } };
    expect(issue({ messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'c1', content: '21 °C' }] })).toBeUndefined();
    expect(issue({ messages: [{ role: 'tool', content: '21 °C' }] })).toBe('messages.0.tool_call_id');
    expect(issue({ messages: [{ role: 'user', content: 'x', tool_calls: [call] }] })).toBe('messages.0.tool_calls');
  });
});

describe('content parts', () => {
  it('keep the text as content and, when there are images, every part in order', () => {
    const image = { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } };
    const parsed = chatRequestSchema(64).parse({ model: 'gpt-x', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is ' }, image, { type: 'text', text: 'this?' }] }, { role: 'user', content: [{ type: 'text', text: 'only text' }] }] });
    expect(parsed.messages).toEqual([
      { role: 'user', content: 'What is this?', parts: [{ type: 'text', text: 'What is ' }, image, { type: 'text', text: 'this?' }] },
      { role: 'user', content: 'only text' },
    ]);
  });
});

describe('nesting', () => {
  it('finds a body nested deeper than allowed without recursing (100,000 levels)', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
    expect(nestedDeeperThan({ tools: deep }, 64)).toBe(true);
    const schema = { type: 'object', properties: { address: { type: 'object', properties: { city: { type: 'string' } } } } };
    expect(nestedDeeperThan({ tools: [{ type: 'function', function: { name: 'f', parameters: schema } }] }, 64)).toBe(false);
  });
});
