import { readFileSync } from 'node:fs';
import { CatalogueError, parseCatalogue, type CatalogueInput } from '@aip/contracts';
import { CatalogueHolder } from './catalogue.holder.ts';
import { DEFAULT_CATALOGUE } from './default-catalogue.ts';

const intent = (over: Record<string, unknown> = {}) => ({ id: 'city_attractions', description: 'd', examples: ['sights in Rome'], prompt: 'Hotels?', ...over });
const issuesOf = (input: unknown) => {
  try {
    parseCatalogue(input);
    return [];
  } catch (error) {
    if (!(error instanceof CatalogueError)) throw error;
    return error.issues;
  }
};

describe('intent catalogue validation', () => {
  it('accepts the default catalogue and fills defaults', () => {
    const catalogue = parseCatalogue(DEFAULT_CATALOGUE);
    expect(catalogue.intents.map((i) => i.id)).toEqual(expect.arrayContaining(['city_attractions', 'unanswered_question']));
    expect(catalogue.intents.find((i) => i.id === 'recipe_cooking')!.trigger).toBe('user_turns');
  });

  it('keeps config/intents/default.json, the copy operators edit, equal to the built-in default', () => {
    const file = JSON.parse(readFileSync(new URL('../../../../config/intents/default.json', import.meta.url), 'utf8')) as unknown;
    expect(parseCatalogue(file)).toEqual(parseCatalogue(DEFAULT_CATALOGUE));
  });

  it('fills minimal documents with documented defaults', () => {
    const catalogue = parseCatalogue({ intents: [intent()] });
    expect(catalogue).toMatchObject({ threshold: 0.5, margin: 0.05, defaults: { timezone: 'UTC', dailyCap: 3, quietHours: { start: '22:00', end: '08:00' } } });
    expect(catalogue.intents[0]).toMatchObject({ trigger: 'user_turns', delayMs: 0, cooldownMs: 12 * 3_600_000, slots: [], recordInterest: true });
  });

  it.each<[string, unknown, string]>([
    ['duplicate ids', { intents: [intent(), intent()] }, 'intents.1.id'],
    ['a placeholder that is no slot', { intents: [intent({ prompt: 'Hotels in {city}?' })] }, 'intents.0.prompt'],
    ['an invalid regular expression', { intents: [intent({ slots: [{ name: 'city', patterns: ['in ([A-Z'] }] })] }, 'intents.0.slots.0.patterns.0'],
    ['a pattern without a capture group', { intents: [intent({ slots: [{ name: 'city', patterns: ['in [A-Z]\\w+'] }] })] }, 'intents.0.slots.0.patterns.0'],
    ['a slot with no rule', { intents: [intent({ slots: [{ name: 'city' }] })] }, 'intents.0.slots.0'],
    ['a user_turns intent without examples', { intents: [intent({ examples: [] })] }, 'intents.0.examples'],
    ['an unknown time zone', { defaults: { timezone: 'Mars/Olympus' }, intents: [intent()] }, 'defaults.timezone'],
    ['a bad quiet-hours clock', { defaults: { quietHours: { start: '25:00', end: '08:00' } }, intents: [intent()] }, 'defaults.quietHours.start'],
    ['an upper-case intent id', { intents: [intent({ id: 'Hotels' })] }, 'intents.0.id'],
    ['no intents', { intents: [] }, 'intents'],
  ])('refuses %s, naming the field', (_, input, path) => {
    expect(issuesOf(input).map((issue) => issue.path)).toContain(path);
  });

  it('a holder keeps the last good catalogue when a new version is invalid', () => {
    const holder = new CatalogueHolder();
    const replacement: CatalogueInput = { intents: [intent({ id: 'only_one' })] };
    holder.apply(replacement, 2);
    expect(() => holder.apply({ intents: [] }, 3)).toThrow(CatalogueError);
    expect(holder.version).toBe(2);
    expect(holder.catalogue.intents.map((i) => i.id)).toEqual(['only_one']);
  });

  it('a holder goes back to its start-up catalogue when the document is deleted (a null body)', () => {
    const holder = new CatalogueHolder();
    const startup = holder.catalogue.intents.map((i) => i.id);
    holder.apply({ intents: [intent({ id: 'only_one' })] }, 2);
    const deleted = null; // the document was deleted
    holder.apply(deleted, 3);
    expect(holder.version).toBe(3);
    expect(holder.catalogue.intents.map((i) => i.id)).toEqual(startup);
  });
});
