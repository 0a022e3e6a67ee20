import { unhonouredField } from './unhonoured-fields.ts';

const ask = { model: 'extractive', messages: [{ role: 'user', content: 'hi' }] };

describe('fields a chat request sends that the platform does not carry out', () => {
  it('lets through what the platform reads, and the defaults clients send of what it does not', () => {
    expect(unhonouredField({ ...ask, stream: true, stream_options: { include_usage: true }, temperature: 0.2, max_tokens: 5, user: 'u', session_id: 's' })).toBeUndefined();
    // What SDKs and LangChain send when nothing was asked for: these change nothing.
    const defaults = { n: 1, top_p: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, tools: [], tool_choice: 'auto', parallel_tool_calls: true, response_format: { type: 'text' }, stop: null, seed: null, logit_bias: {}, store: false, service_tier: 'auto', modalities: ['text'], metadata: {} };
    expect(unhonouredField({ ...ask, ...defaults })).toBeUndefined();
    expect(unhonouredField({ ...ask, messages: [{ role: 'assistant', content: 'x', tool_calls: [], refusal: null }, { role: 'user', content: [{ type: 'text', text: 'a' }] }] })).toBeUndefined();
  });

  it('lets through what is forwarded to the model: tools, tool turns, structured output, sampling fields', () => {
    const forwarded = {
      tools: [{ type: 'function', function: { name: 'weather', parameters: {} } }], tool_choice: 'required', response_format: { type: 'json_object' }, stop: ['\n'], top_p: 0.5, seed: 7, reasoning_effort: 'low',
      logprobs: true, top_logprobs: 3, store: true, metadata: { team: 'search' }, service_tier: 'flex', prediction: { type: 'content', content: 'x' },
    };
    expect(unhonouredField({ ...ask, ...forwarded })).toBeUndefined();
    const roundTrip = [
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '21 °C' },
    ];
    expect(unhonouredField({ ...ask, messages: roundTrip })).toBeUndefined();
  });

  // Regression (issue 14): fields were dropped without a word, and the client got an answer it
  // could not tell apart from one that honoured them.
  it.each([
    ['modalities', ['text', 'audio']],
    ['functions', [{ name: 'weather' }]],
  ])('refuses %s with a value that would change the answer, naming it', (param, value) => {
    expect(unhonouredField({ ...ask, [param]: value })).toEqual({ param, code: 'unsupported_parameter', message: expect.stringContaining(`'${param}'`) });
  });

  // Found by the fuzz suite (FUZZ_SEED=38382153): `"hasOwnProperty": 0` found Object.prototype's
  // function as the field's no-op check, which threw: a 500.
  it.each(['hasOwnProperty', 'toString', 'constructor', '__proto__', 'valueOf'])('refuses "%s", a name only Object.prototype has, as an unknown field', (field) => {
    expect(unhonouredField(JSON.parse(`{"model":"extractive","messages":[{"role":"user","content":"hi","${field}":0}],"${field}":0}`) as Record<string, unknown>)).toMatchObject({ code: 'unknown_parameter' });
    expect(unhonouredField({ ...ask, messages: [JSON.parse(`{"role":"user","content":"hi","${field}":0}`)] })).toMatchObject({ param: `messages[0].${field}`, code: 'unknown_parameter' });
  });

  it('refuses a field OpenAI does not define, as OpenAI does', () => {
    expect(unhonouredField({ ...ask, temprature: 0.2 })).toEqual({ param: 'temprature', code: 'unknown_parameter', message: 'Unrecognized request argument supplied: temprature' });
    expect(unhonouredField({ ...ask, messages: [{ role: 'user', content: 'hi', mood: 'happy' }] })).toMatchObject({ param: 'messages[0].mood', code: 'unknown_parameter' });
  });

  it('refuses content parts other than text and images (audio, files) and deprecated function messages', () => {
    expect(unhonouredField({ ...ask, messages: [{ role: 'function', name: 'w', content: '21 °C' }] })).toMatchObject({ param: 'messages[0].role', code: 'unsupported_parameter' });
    const image = { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] };
    expect(unhonouredField({ ...ask, messages: [image] })).toBeUndefined();
    const audio = { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] };
    expect(unhonouredField({ ...ask, messages: [audio] })).toEqual({ param: 'messages[0].content[1]', code: 'unsupported_content', message: expect.stringContaining("'input_audio'") });
  });
});
