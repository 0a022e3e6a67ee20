import { AnswerText, AnswerToolCalls } from './task-relay.ts';

describe('AnswerText', () => {
  it('passes deltas through', () => {
    const answer = new AnswerText();
    expect([answer.delta('Hel'), answer.delta('lo')]).toEqual(['Hel', 'lo']);
    expect(answer.text).toBe('Hello');
  });

  it('after a restart, sends only what goes beyond the text the client already has', () => {
    const answer = new AnswerText();
    answer.delta('The Forbidden ');
    answer.restart();
    expect(answer.delta('The ')).toBe('');
    expect(answer.delta('Forbidden City')).toBe('City');
    expect(answer.delta(' is')).toBe(' is');
    expect(answer.text).toBe('The Forbidden City is');
  });

  it('answers with the finished run\'s text, even when it is shorter than what the dead run had sent', () => {
    const answer = new AnswerText();
    answer.delta('A long first attempt');
    answer.restart();
    answer.delta('Short.');
    expect(answer.text).toBe('Short.');
  });
});

describe('AnswerToolCalls', () => {
  const fragment = (index: number, args: string, head?: { id: string; name: string }) => ({ type: 'tool_call' as const, index, arguments: args, ...head });

  it('sends each call\'s id and name once, then its argument fragments, and assembles the calls by index', () => {
    const calls = new AnswerToolCalls();
    expect(calls.fragment(fragment(0, '', { id: 'call_a', name: 'weather' }))).toEqual({ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } });
    expect(calls.fragment(fragment(0, '{"city":'))).toEqual({ index: 0, function: { arguments: '{"city":' } });
    expect(calls.fragment(fragment(1, '{}', { id: 'call_b', name: 'time' }))).toEqual({ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } });
    calls.fragment(fragment(0, '"Beijing"}'));
    expect(calls.calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Beijing"}' } },
      { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
    ]);
  });

  it('after a restart, sends only what goes beyond what the client has, and answers with the finished run\'s calls', () => {
    const calls = new AnswerToolCalls();
    calls.fragment(fragment(0, '{"city":', { id: 'call_a', name: 'weather' }));
    calls.restart();
    expect(calls.fragment(fragment(0, '{"ci', { id: 'call_z', name: 'weather' }))).toBeUndefined();
    expect(calls.fragment(fragment(0, 'ty":"Xi\'an"}'))).toEqual({ index: 0, function: { arguments: '"Xi\'an"}' } });
    expect(calls.calls).toEqual([{ id: 'call_z', type: 'function', function: { name: 'weather', arguments: '{"city":"Xi\'an"}' } }]);
  });
});
