import { resolvePageConfig } from './page-config.ts';

describe('resolvePageConfig', () => {
  it('falls back to the local platform on the page\'s host', () => {
    expect(resolvePageConfig({}, 'http://10.0.0.5:3005/')).toEqual({
      accessUrl: 'http://10.0.0.5:3000',
      knowledgeUrl: 'http://10.0.0.5:3003',
      realtimeUrl: 'ws://10.0.0.5:3005/v1/ws',
      model: 'extractive',
      tokenTtlSeconds: 300,
    });
    expect(resolvePageConfig({}, 'https://chat.example.com/').realtimeUrl).toBe('wss://chat.example.com/v1/ws');
  });

  it('takes what the server says, without trailing slashes', () => {
    expect(resolvePageConfig({ accessUrl: 'https://api.example.com/', knowledgeUrl: 'https://kb.example.com//', model: 'gpt' }, 'https://chat.example.com/')).toMatchObject({
      accessUrl: 'https://api.example.com',
      knowledgeUrl: 'https://kb.example.com',
      model: 'gpt',
    });
  });
});
