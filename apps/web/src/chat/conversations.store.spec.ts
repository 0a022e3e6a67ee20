import { Conversation } from './conversation.store.ts';
import { Conversations, messagesOf, type ConversationsApi } from './conversations.store.ts';

const item = (role: 'user' | 'assistant', text: string) => ({ type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });

function setup(stored: Record<string, ReturnType<typeof item>[]>) {
  const remembered: string[] = [];
  const api: ConversationsApi = {
    list: async () => ({ data: Object.keys(stored).map((id, index) => ({ id, title: index === 0 ? null : `title of ${id}`, updated_at: 100 - index })) }),
    items: async (id) => stored[id] ?? [],
  };
  return { conversations: new Conversations(api, 's-first', (id) => remembered.push(id)), remembered };
}

describe('Conversations', () => {
  it('lists the stored conversations with their titles (a new one as such)', async () => {
    const { conversations } = setup({ 's-first': [], 'conv_2': [item('user', 'hi')] });
    await conversations.refresh();
    expect(conversations.value.list.map((c) => c.title)).toEqual(['New conversation', 'title of conv_2']);
  });

  it('switches to a stored conversation: the chat shows its messages, and the choice is remembered', async () => {
    const { conversations, remembered } = setup({ conv_2: [item('user', 'Which sights?'), { type: 'function_call' } as never, item('assistant', 'The Forbidden City.')] });
    const chat = new Conversation({ nameOf: () => undefined, fetchTask: async () => ({ status: 'completed' }) });
    chat.addUser('something else');
    chat.show(await conversations.open('conv_2'));
    expect(chat.value.map((entry) => [entry.kind, 'text' in entry ? entry.text : ''])).toEqual([
      ['user', 'Which sights?'],
      ['answer', 'The Forbidden City.'],
    ]);
    expect(chat.value[1]).toMatchObject({ status: 'done', done: true });
    expect([conversations.value.current, remembered]).toEqual(['conv_2', ['conv_2']]);
    conversations.startNew();
    expect(conversations.value.current).toMatch(/^s-[0-9a-f-]{36}$/);
  });

  it('reads only the text of messages', () => {
    expect(messagesOf([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_image' }, { type: 'input_text', text: 'b' }] }, { type: 'function_call_output' }])).toEqual([{ role: 'user', text: 'ab' }]);
  });
});
