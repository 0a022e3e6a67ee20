import { AnswerText } from './task-relay.ts';

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
