import { Conversation, type Entry, type TaskView } from './conversation.store.ts';

const answerOf = (entries: readonly Entry[], ref: string) => entries.find((entry) => entry.kind === 'answer' && entry.ref === ref) as Extract<Entry, { kind: 'answer' }>;

function conversation(tasks: Record<string, TaskView | 404> = {}) {
  return new Conversation({
    nameOf: (docId) => (docId === 'doc-7' ? 'hotels.md' : undefined),
    fetchTask: async (taskId) => {
      const task = tasks[taskId];
      if (task === 404 || !task) throw Object.assign(new Error('no such task'), { status: 404 });
      return task;
    },
    wait: async () => undefined,
  });
}

describe('Conversation', () => {
  it('streams an answer with its sources and ends it with the model and tokens', () => {
    const chat = conversation();
    chat.addUser('Which sights are in Beijing?');
    chat.startAnswer('c-1');
    chat.onFrame({ type: 'accepted', ref: 'c-1', taskId: 't-1' });
    chat.onFrame({ type: 'delta', ref: 'c-1', taskId: 't-1', text: 'The Forbidden City ' });
    chat.onFrame({ type: 'delta', ref: 'c-1', taskId: 't-1', text: 'and the Great Wall.' });
    chat.onFrame({ type: 'sources', ref: 'c-1', taskId: 't-1', sources: [{ docId: 'doc-1', version: 'v1', position: 0 }, { docId: 'doc-7' }] });
    chat.onFrame({ type: 'done', ref: 'c-1', taskId: 't-1', finishReason: 'length', model: 'extractive', usage: { promptTokens: 5, completionTokens: 7, totalTokens: 12 } });
    // Late frames of a finished answer change nothing.
    chat.onFrame({ type: 'delta', ref: 'c-1', taskId: 't-1', text: ' more' });

    const answer = answerOf(chat.value, 'c-1');
    expect(chat.value.map((entry) => entry.kind)).toEqual(['user', 'answer']);
    expect(answer).toMatchObject({ status: 'done', text: 'The Forbidden City and the Great Wall.', meta: 'extractive · 12 tokens · cut at the length limit' });
    expect(answer.sources).toEqual([
      { label: '[1] doc-1 §1', title: 'doc-1 (version v1)' },
      { label: '[2] hotels.md', title: 'doc-7' },
    ]);
  });

  it('discards the text so far when the generation restarts, and shows a failure with when to retry', () => {
    const chat = conversation();
    chat.startAnswer('c-1');
    chat.onFrame({ type: 'delta', ref: 'c-1', taskId: 't', text: 'abc' });
    chat.onFrame({ type: 'delta', ref: 'c-1', taskId: 't', text: 'x', reset: true });
    expect(answerOf(chat.value, 'c-1').text).toBe('x');
    chat.onFrame({ type: 'error', ref: 'c-1', code: 'rate_limited', message: 'Too many requests', retryAfterMs: 1_500 });
    expect(answerOf(chat.value, 'c-1')).toMatchObject({ status: 'failed', meta: 'Too many requests — try again in 2 s' });
  });

  it('fetches an answer cut off by a lost connection from the task API once back', async () => {
    const chat = conversation({ 't-cut': { status: 'completed', model: 'extractive', result: 'The Forbidden City.', usage: { totalTokens: 9 }, sources: [{ docId: 'doc-9' }] } });
    chat.startAnswer('c-cut');
    chat.onFrame({ type: 'accepted', ref: 'c-cut', taskId: 't-cut' });
    chat.onFrame({ type: 'delta', ref: 'c-cut', taskId: 't-cut', text: 'The Forbidden' });
    chat.startAnswer('c-unsent');
    chat.interruptStreaming();
    expect(answerOf(chat.value, 'c-cut')).toMatchObject({ status: 'interrupted', done: false });
    // Never accepted: there is no task to fetch it from.
    expect(answerOf(chat.value, 'c-unsent')).toMatchObject({ status: 'interrupted', done: true, meta: 'connection lost before the message was accepted' });

    await chat.recoverInterrupted();
    expect(answerOf(chat.value, 'c-cut')).toMatchObject({ status: 'done', text: 'The Forbidden City.', meta: 'extractive · 9 tokens', sources: [{ label: '[1] doc-9', title: 'doc-9' }] });
    expect(answerOf(chat.value, 'c-unsent').status).toBe('interrupted');
  });

  it('says so when the interrupted answer is gone', async () => {
    const chat = conversation({ 't-gone': 404 });
    chat.startAnswer('c-1');
    chat.onFrame({ type: 'accepted', ref: 'c-1', taskId: 't-gone' });
    chat.interruptStreaming();
    await chat.recoverInterrupted();
    expect(answerOf(chat.value, 'c-1')).toMatchObject({ status: 'failed', meta: 'the answer is no longer available' });
  });

  it('shows proactive prompts in line, labelled by intent or title', () => {
    const chat = conversation();
    chat.addProactive({ id: '1-0', kind: 'proactive', intent: 'hotel_suggest', text: 'Hotels?' });
    chat.addProactive({ id: '2-0', kind: 'notice', title: 'New documents', text: 'Updated.' });
    expect(chat.value).toMatchObject([
      { kind: 'proactive', pushId: '1-0', label: 'hotel_suggest', text: 'Hotels?' },
      { kind: 'proactive', pushId: '2-0', label: 'New documents', text: 'Updated.' },
    ]);
  });
});
