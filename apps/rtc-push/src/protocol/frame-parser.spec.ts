import { parseClientFrame } from './frame-parser.ts';

describe('parseClientFrame', () => {
  it('accepts a hello with a resume id and an ack', () => {
    expect(parseClientFrame('{"type":"hello","v":1,"lastPushId":"1764000000000-3"}')).toEqual({ ok: true, frame: { type: 'hello', v: 1, lastPushId: '1764000000000-3' } });
    expect(parseClientFrame('{"type":"ack","ids":["1-0","2-0"]}')).toMatchObject({ ok: true, frame: { type: 'ack', ids: ['1-0', '2-0'] } });
  });

  it('answers malformed JSON with invalid_json', () => {
    expect(parseClientFrame('{"type":')).toMatchObject({ ok: false, error: { type: 'error', code: 'invalid_json' } });
  });

  it('answers an unknown type with unknown_type and keeps the ref of a chat-like frame', () => {
    const result = parseClientFrame('{"type":"subscribe","ref":"r1"}');
    expect(result).toMatchObject({ ok: false, error: { code: 'unknown_type', ref: 'r1' } });
    if (!result.ok) expect(result.error.message).toContain('hello, resume, ack, chat, ping');
  });

  it('refuses a non-object and a frame without a type', () => {
    expect(parseClientFrame('[1,2]')).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
    expect(parseClientFrame('{"ids":[]}')).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
  });

  it('refuses another protocol version', () => {
    expect(parseClientFrame('{"type":"hello","v":2}')).toMatchObject({ ok: false, error: { code: 'unsupported_version' } });
  });

  it('names the field that is wrong', () => {
    const result = parseClientFrame('{"type":"ack","ids":["not-an-id!"]}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'invalid_frame', message: expect.stringContaining('ids.0') });
  });

  it('requires exactly one of text or messages in a chat, and keeps its ref in the error', () => {
    expect(parseClientFrame('{"type":"chat","ref":"c1","text":"hi"}')).toMatchObject({ ok: true });
    expect(parseClientFrame('{"type":"chat","ref":"c1"}')).toMatchObject({ ok: false, error: { code: 'invalid_frame', ref: 'c1' } });
    expect(parseClientFrame('{"type":"chat","ref":"c1","text":"hi","messages":[{"role":"user","content":"hi"}]}')).toMatchObject({ ok: false });
  });

  // Regression (issue 14): a chat frame's unknown fields were dropped, and the answer looked as if
  // they had been honoured.
  it('refuses a chat carrying what the socket does not carry out (tools, n, image parts), naming it', () => {
    const tools = parseClientFrame('{"type":"chat","ref":"c1","text":"weather?","tools":[{"type":"function","function":{"name":"w"}}]}');
    expect(tools).toMatchObject({ ok: false, error: { code: 'invalid_frame', ref: 'c1', message: expect.stringContaining('"tools"') } });
    expect(parseClientFrame('{"type":"chat","ref":"c1","text":"hi","n":2}')).toMatchObject({ ok: false, error: { message: expect.stringContaining('"n"') } });
    const image = parseClientFrame('{"type":"chat","ref":"c1","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}');
    expect(image).toMatchObject({ ok: false, error: { code: 'invalid_frame', message: expect.stringContaining('messages.0.content') } });
  });

  it('refuses push ids Redis cannot take (a part above 2^64 - 1) as invalid_frame', () => {
    const huge = '99999999999999999999-0';
    expect(parseClientFrame(JSON.stringify({ type: 'hello', v: 1, lastPushId: huge }))).toMatchObject({ ok: false, error: { code: 'invalid_frame', message: expect.stringContaining('lastPushId') } });
    expect(parseClientFrame(JSON.stringify({ type: 'resume', v: 1, lastPushId: '1-18446744073709551616' }))).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
    expect(parseClientFrame(JSON.stringify({ type: 'ack', ids: ['1-0', huge] }))).toMatchObject({ ok: false, error: { code: 'invalid_frame', message: expect.stringContaining('ids.1') } });
    expect(parseClientFrame(JSON.stringify({ type: 'hello', v: 1, lastPushId: '18446744073709551615-18446744073709551615' }))).toMatchObject({ ok: true });
  });

  it('bounds an ack to 500 ids', () => {
    const ids = Array.from({ length: 501 }, (_, i) => `${i + 1}-0`);
    expect(parseClientFrame(JSON.stringify({ type: 'ack', ids }))).toMatchObject({ ok: false, error: { code: 'invalid_frame' } });
  });
});
