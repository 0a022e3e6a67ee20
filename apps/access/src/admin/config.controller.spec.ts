import { NotFoundException } from '@nestjs/common';
import type { EventPublisher } from '@aip/messaging';
import type { ConfigDocuments } from '@aip/runtime';
import { ConfigController } from './config.controller.ts';

function setup() {
  const stored = new Map<string, unknown>();
  const published: string[] = [];
  const documents = {
    get: async (name: string) => stored.get(name),
    put: async (name: string, body: unknown) => (stored.set(name, { version: 1, body }), { version: 1, body }),
  } as unknown as ConfigDocuments;
  const publisher = { publish: async (type: string) => void published.push(type) } as unknown as EventPublisher;
  return { controller: new ConfigController(documents, publisher), stored, published };
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
});

