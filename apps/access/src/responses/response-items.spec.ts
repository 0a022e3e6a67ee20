import { responseRequestSchema, unsupportedCombination } from './response-request.schema.ts';
import { answerMessage, chatBodyOf, endingOf, messagesOf, outputItemsOf, responseUsage } from './response-items.ts';

const request = (body: Record<string, unknown>) => responseRequestSchema.parse({ model: 'gpt-x', input: 'hi', ...body });

describe('the Responses API as chat requests', () => {
  it('turns input items into chat turns: parts, images, a function call and its output', () => {
    expect(
      messagesOf([
        { role: 'developer', content: 'Be brief.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' }] },
        { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'c2', name: 'time', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: '21 °C' },
      ]),
    ).toEqual([
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }] },
      // Consecutive calls are one assistant turn, as chat completions have them.
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }, { id: 'c2', type: 'function', function: { name: 'time', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '21 °C' },
    ]);
  });

  it("translates the request's fields to chat's: instructions first, then the conversation, then the input", () => {
    const body = chatBodyOf(
      request({
        instructions: 'Be brief.',
        tools: [{ type: 'function', name: 'weather', parameters: { type: 'object' }, strict: true, description: null }],
        tool_choice: { type: 'function', name: 'weather' },
        text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
        max_output_tokens: 64,
        reasoning: { effort: 'low' },
        safety_identifier: 'u-1',
      }),
      [{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'reply' }],
    );
    expect(body).toEqual({
      model: 'gpt-x',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'earlier' }, { role: 'assistant', content: 'reply' }, { role: 'user', content: 'hi' }],
      stream: false,
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
      max_completion_tokens: 64,
      reasoning_effort: 'low',
      user: 'u-1',
    });
  });

  it('refuses what it does not carry out, naming it', () => {
    expect(responseRequestSchema.safeParse({ model: 'm', input: 'x', include: ['reasoning.encrypted_content'] }).success).toBe(false);
    expect(responseRequestSchema.safeParse({ model: 'm', input: 'x', prompt_cache_key: 'c' }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['prompt_cache_key'] });
    const both = responseRequestSchema.parse({ model: 'm', input: 'x', conversation: { id: 'conv_1' }, previous_response_id: 'resp_1' });
    expect(unsupportedCombination(both)).toMatchObject({ param: 'previous_response_id' });
    expect(responseRequestSchema.safeParse({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_audio', data: 'x' }] }] }).success).toBe(false);
  });

  it('runs a response in its conversation: the conversation is the session the worker reads and adds to', () => {
    const request = responseRequestSchema.parse({ model: 'm', input: 'and tomorrow?', instructions: 'be brief', user: 'u-1' });
    expect(chatBodyOf(request, [], { user: 'u-2', conversationId: 'conv_1' })).toMatchObject({ session_id: 'conv_1', user: 'u-2', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'and tomorrow?' }] });
  });

  it('answers with output items and the conversation turn a later request continues from', () => {
    const calls = [{ id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' }];
    expect(outputItemsOf('resp_t1', '', calls)).toEqual([{ type: 'function_call', id: 'fc_c1', call_id: 'c1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' }]);
    expect(outputItemsOf('resp_t1', 'Hello.', [])).toEqual([{ type: 'message', id: 'msg_t1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello.', annotations: [] }] }]);
    expect(answerMessage('', calls)).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] });
    expect([endingOf('stop'), endingOf('tool_calls'), endingOf('length'), endingOf('content_filter')]).toEqual([
      { status: 'completed' },
      { status: 'completed' },
      { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
      { status: 'incomplete', incomplete_details: { reason: 'content_filter' } },
    ]);
    expect(responseUsage({ promptTokens: 10, completionTokens: 5, totalTokens: 15, cachedTokens: 4 })).toEqual({ input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 });
  });
});
