import { keepStoredSecrets, redactRoutingSecrets, UnknownRedactedSecretError } from './model-routing.secrets.ts';
import type { ModelRoutingConfig } from './model-routing.schema.ts';

const routing = (apiKey: string, auth = 'Bearer sk-header-secret-9876'): ModelRoutingConfig => ({
  models: {
    'gpt-4o-mini': {
      providers: [
        { name: 'openai', kind: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey, headers: { authorization: auth } },
        { name: 'extractive', kind: 'extractive' },
      ],
    },
  },
});

describe('provider secrets in the routing document', () => {
  it('shows every apiKey and header value redacted, with the last four characters of long ones', () => {
    const shown = JSON.stringify(redactRoutingSecrets(routing('sk-live-0123456789abcdef')));
    expect(shown).not.toContain('sk-live');
    expect(shown).not.toContain('sk-header');
    expect(shown).toContain('"apiKey":"<redacted:…cdef>"');
    expect(shown).toContain('"authorization":"<redacted:…9876>"');
    // A short secret shows nothing of itself.
    expect(JSON.stringify(redactRoutingSecrets(routing('short')))).toContain('"apiKey":"<redacted>"');
  });

  it('keeps the stored secrets when the redacted document comes back unchanged, and takes new ones as sent', () => {
    const stored = routing('sk-live-0123456789abcdef');
    const back = keepStoredSecrets(redactRoutingSecrets(stored), stored);
    expect(back).toEqual(stored);
    const rotated = keepStoredSecrets(routing('sk-live-new-key-000000000'), stored);
    expect(rotated.models['gpt-4o-mini']!.providers[0]).toMatchObject({ apiKey: 'sk-live-new-key-000000000' });
  });

  it('refuses a redacted value with no stored secret at its place (another provider, another key, nothing stored)', () => {
    const stored = routing('sk-live-0123456789abcdef');
    const shown = redactRoutingSecrets(stored);
    expect(() => keepStoredSecrets(shown, undefined)).toThrow(UnknownRedactedSecretError);
    expect(() => keepStoredSecrets(shown, routing('sk-live-another-key-zzzz'))).toThrow(/models\.gpt-4o-mini\.providers\.0\.apiKey is a redacted value/);
    const renamed = { models: { 'gpt-4o-mini': { providers: [{ ...shown.models['gpt-4o-mini']!.providers[0]!, name: 'openai-2' }] } } } as ModelRoutingConfig;
    expect(() => keepStoredSecrets(renamed, stored)).toThrow(UnknownRedactedSecretError);
  });
});
