import { connectionLabel } from './connection-label.ts';

describe('connectionLabel', () => {
  it('says what the user can expect of the connection', () => {
    expect(connectionLabel({ state: 'open', attempt: 0, reconnects: 0 })).toBe('connected');
    expect(connectionLabel({ state: 'open', attempt: 0, reconnects: 1 })).toBe('connected (reconnected)');
    expect(connectionLabel({ state: 'open', attempt: 0, reconnects: 3 })).toBe('connected (reconnected ×3)');
    expect(connectionLabel({ state: 'reconnecting', attempt: 2, reconnects: 0, retryInMs: 1_234 })).toBe('connection lost — reconnecting in 1.2 s (attempt 2)');
    expect(connectionLabel({ state: 'connecting', attempt: 1, reconnects: 0, retryInMs: 12_000 })).toBe('connecting — retry in 12 s');
    expect(connectionLabel({ state: 'unauthorized', attempt: 1, reconnects: 0, reason: 'Invalid API key.' })).toBe('not authorised: Invalid API key. — check the API key');
    expect(connectionLabel({ state: 'offline', attempt: 0, reconnects: 0 })).toMatch(/^offline/);
  });
});
