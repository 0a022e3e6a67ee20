import { chatRequestSchema } from './chat-request.schema.ts';

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
