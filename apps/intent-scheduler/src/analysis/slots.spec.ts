import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import { extractSlot, extractSlots, maskSlots, renderPrompt, slotRulesOf } from './slots.ts';

const catalogue = parseCatalogue(DEFAULT_CATALOGUE);
const cityIntent = catalogue.intents.find((i) => i.id === 'city_attractions')!;
const city = cityIntent.slots[0]!;

describe('slot extraction', () => {
  it.each([
    ['what are the sights in Beijing?', 'Beijing'],
    ['sights of beijing please', 'Beijing'],
    ['things to do in new york this weekend', 'New York'],
    ["what's worth seeing in Xi'an", "Xi'an"],
    ['Is Rome or Paris nicer?', 'Rome'],
  ])('finds the city in %j from the gazetteer, in its canonical spelling', (text, expected) => {
    expect(extractSlot(city, text)).toBe(expected);
  });

  it('falls back to a capitalised name after "in"/"to" for places not in the gazetteer', () => {
    expect(extractSlot(city, 'what should I see in Reykjavik?')).toBe('Reykjavik');
    expect(extractSlot(city, 'we are going to Ulan Bator next month')).toBe('Ulan Bator');
  });

  it('does not take ordinary words or a sentence-initial pronoun for a city', () => {
    expect(extractSlot(city, 'what are the sights in town?')).toBeUndefined();
    expect(extractSlot(city, 'going to I think the museum')).toBeUndefined();
    expect(extractSlot(city, 'the Beijingers love dumplings')).toBeUndefined();
  });

  it('takes each slot from the newest text that has it', () => {
    expect(extractSlots(cityIntent, ['and what about hotels?', 'sights in Tokyo', 'sights in Paris'])).toEqual({ city: 'Tokyo' });
  });

  it('gives no slots when a required one is missing', () => {
    expect(extractSlots(cityIntent, ['what are the sights around here?'])).toBeUndefined();
    expect(extractSlots({ ...cityIntent, slots: [{ ...city, required: false }] }, ['nothing here'])).toEqual({});
  });

  it('renders the prompt with the slots, or nothing when a placeholder has no value', () => {
    expect(renderPrompt(cityIntent.prompt, { city: 'Beijing' })).toBe('Planning a trip to Beijing? I can suggest hotels in Beijing.');
    expect(renderPrompt(cityIntent.prompt, {})).toBeUndefined();
  });
});

describe('slot masking before embedding', () => {
  const rules = slotRulesOf(catalogue.intents);

  it('replaces every city, known or capitalised after a preposition, by "the city"', () => {
    expect(maskSlots('how do I get from Beijing to shanghai', rules)).toBe('how do I get from the city to the city');
    expect(maskSlots('what is there to do in Reykjavik?', rules)).toBe('what is there to do in the city?');
  });

  it('leaves texts without slot values alone', () => {
    expect(maskSlots('how do I bake bread', rules)).toBe('how do I bake bread');
  });

  it('collects each slot rule once across intents', () => {
    expect(rules.map((rule) => rule.name)).toEqual(['city']);
  });
});
