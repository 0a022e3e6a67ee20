import { NotFoundException } from '@nestjs/common';
import type { EventPublisher } from '@aip/messaging';
import type { ConfigDocuments } from '@aip/runtime';
import { openRoutingSecrets, SealedSecretError, SecretBox, type ModelRoutingConfig } from '@aip/llm';
import { ConfigController } from './config.controller.ts';

function setup(env: { CONFIG_ENCRYPTION_KEY?: string } = {}) {
  const stored = new Map<string, unknown>();
  const kept = new Map<string, { version: number; at: string; body: unknown }[]>();
  const published: string[] = [];
  // ConfigDocuments' behaviour in memory (its Redis script is tested in config-documents.int-spec.ts).
  const documents = {
    get: async (name: string) => stored.get(name),
    put: async (name: string, body: unknown) => {
      const history = kept.get(name) ?? [];
      const version = history.length + 1;
      kept.set(name, [{ version, at: new Date().toISOString(), body }, ...history]);
      stored.set(name, { version, body });
      return { version, body };
    },
    history: async (name: string) => kept.get(name) ?? [],
    version: async (name: string, version: number) => kept.get(name)?.find((entry) => entry.version === version),
  } as unknown as ConfigDocuments;
  const publisher = { publish: async (type: string) => void published.push(type) } as unknown as EventPublisher;
  return { controller: new ConfigController(documents, publisher, env), stored, published };
}

describe('ConfigController', () => {
  // Found by the fuzz suite (tests/fuzz): `DOCUMENTS[name]` found Object.prototype's members, and
  // PUT /admin/config/__proto__ answered 500 (`spec.schema` of Object.prototype is undefined).
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('answers 404 for "%s", a name only Object.prototype has', async (name) => {
    const { controller, stored, published } = setup();
    await expect(controller.put(name, { words: ['x'] })).rejects.toBeInstanceOf(NotFoundException);
    await expect(controller.get(name)).rejects.toBeInstanceOf(NotFoundException);
    expect([...stored.keys(), ...published]).toEqual([]);
  });

  it('stores and announces a valid document of a known name', async () => {
    const { controller, published } = setup();
    expect(await controller.put('words', { words: ['darn'], input: 'mask' })).toEqual({ version: 1, body: { words: ['darn'], input: 'mask' } });
    expect(await controller.get('words')).toEqual({ version: 1, body: { words: ['darn'], input: 'mask' } });
    expect(published).toEqual(['config.words.changed']);
  });

  it('never shows provider secrets, and keeps them when the shown document is sent back', async () => {
    const { controller, stored } = setup();
    const routing = { models: { gpt: { providers: [{ name: 'openai', kind: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: 'sk-live-0123456789abcdef' }] } } };
    const answer = await controller.put('routing', routing);
    expect(JSON.stringify(answer)).not.toContain('sk-live');
    const shown = await controller.get('routing');
    expect(JSON.stringify(shown)).not.toContain('sk-live');
    // GET → PUT unchanged: the stored key is still the real one, not the redacted text.
    await controller.put('routing', (shown as { body: unknown }).body);
    expect(JSON.stringify(stored.get('routing'))).toContain('sk-live-0123456789abcdef');
    // A redacted value that matches no stored key is refused, not stored.
    const foreign = { models: { other: { providers: [{ ...routing.models.gpt.providers[0], apiKey: '<redacted:…cdef>' }] } } };
    await expect(controller.put('routing', foreign)).rejects.toMatchObject({ status: 400 });
  });

  it('with CONFIG_ENCRYPTION_KEY: stores provider secrets sealed, which inference opens with the same key and nothing else does', async () => {
    const key = 'an-encryption-key-of-32-characters-or-more';
    const { controller, stored } = setup({ CONFIG_ENCRYPTION_KEY: key });
    const provider = { name: 'openai', kind: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: 'sk-live-0123456789abcdef', headers: { 'api-key': 'header-secret-0123456789' } };
    await controller.put('routing', { models: { gpt: { providers: [provider] } } });
    const atRest = JSON.stringify(stored.get('routing'));
    // Whoever reads Redis reads sealed values, not the keys.
    expect(atRest).not.toContain('sk-live');
    expect(atRest).not.toContain('header-secret');
    expect(atRest.match(/sealed:v1:/g)).toHaveLength(2);
    // The admin API still shows the last four characters of the real key, and a GET → PUT keeps it.
    const shown = (await controller.get('routing')) as { body: { models: { gpt: { providers: [{ apiKey: string }] } } } };
    expect(shown.body.models.gpt.providers[0].apiKey).toBe('<redacted:…cdef>');
    await controller.put('routing', shown.body);
    const body = (stored.get('routing') as { body: ModelRoutingConfig }).body;
    expect(openRoutingSecrets(body, new SecretBox(key)).models['gpt']!.providers[0]).toMatchObject({ apiKey: 'sk-live-0123456789abcdef', headers: { 'api-key': 'header-secret-0123456789' } });
    // Inference without the key (or with another) refuses the document instead of calling providers with ciphertext.
    expect(() => openRoutingSecrets(body, undefined)).toThrow(SealedSecretError);
    expect(() => openRoutingSecrets(body, new SecretBox('another-key-of-32-characters-or-more!!'))).toThrow(SealedSecretError);
  });

  it('deletes a document (back to the start-up settings), lists versions and restores one as a new version', async () => {
    const { controller, published } = setup();
    await expect(controller.delete('words')).rejects.toBeInstanceOf(NotFoundException);
    await controller.put('words', { words: ['darn'], input: 'mask' });
    await controller.put('words', { words: ['heck'], input: 'block' });
    expect(await controller.delete('words')).toEqual({ version: 3, body: null });
    expect(await controller.get('words')).toEqual({ version: 3, body: null });
    // Deleted twice is a 404 the second time: nothing is stored to take away.
    await expect(controller.delete('words')).rejects.toBeInstanceOf(NotFoundException);
    const { data } = await controller.versions('words');
    expect(data.map(({ version, deleted }) => ({ version, deleted }))).toEqual([
      { version: 3, deleted: true },
      { version: 2, deleted: false },
      { version: 1, deleted: false },
    ]);
    expect(await controller.restore('words', 1)).toEqual({ version: 4, body: { words: ['darn'], input: 'mask' } });
    expect(await controller.get('words')).toEqual({ version: 4, body: { words: ['darn'], input: 'mask' } });
    await expect(controller.restore('words', 42)).rejects.toBeInstanceOf(NotFoundException);
    expect(published).toEqual(Array(4).fill('config.words.changed'));
  });

  it('shows kept routing versions without their secrets and restores them with the secrets they had', async () => {
    const { controller, stored } = setup();
    const provider = { name: 'openai', kind: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: 'sk-live-0123456789abcdef' };
    await controller.put('routing', { models: { gpt: { providers: [provider] } } });
    await controller.delete('routing');
    expect(JSON.stringify(await controller.version('routing', 1))).not.toContain('sk-live');
    await controller.restore('routing', 1);
    expect(JSON.stringify(stored.get('routing'))).toContain('sk-live-0123456789abcdef');
  });
});
