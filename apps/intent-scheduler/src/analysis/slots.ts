import type { Intent, SlotRule } from '@aip/contracts';

export type Slots = Record<string, string>;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Words that a capitalised-word pattern catches at the start of a sentence but are no names. */
const NOT_A_NAME = new Set(['I', 'The', 'A', 'An', 'My', 'Our', 'Your', 'This', 'That', 'It', 'We', 'You']);

/** The value of one slot in one text: the gazetteer (whole words, any case) first, then the patterns. */
export function extractSlot(rule: SlotRule, text: string): string | undefined {
  let best: { value: string; index: number; length: number } | undefined;
  for (const entry of rule.gazetteer) {
    const match = new RegExp(`(?<![\\p{L}\\p{N}])${escape(entry)}(?![\\p{L}\\p{N}])`, 'iu').exec(text);
    // The earliest mention wins; at the same place the longer entry ("New York City" over "York").
    if (match && (!best || match.index < best.index || (match.index === best.index && entry.length > best.length))) best = { value: entry, index: match.index, length: entry.length };
  }
  if (best) return best.value;
  for (const source of rule.patterns) {
    for (const match of text.matchAll(new RegExp(source, 'gu'))) {
      const value = match[1]?.trim().replace(/[\s.,!?;:]+$/u, '');
      if (value && !NOT_A_NAME.has(value)) return value;
    }
  }
  return undefined;
}

/**
 * Fills an intent's slots from texts, newest first: a slot takes its value from the first text
 * that has one. Returns undefined when a required slot stays empty (no prompt can be written).
 */
export function extractSlots(intent: Intent, texts: readonly string[]): Slots | undefined {
  const slots: Slots = {};
  for (const rule of intent.slots) {
    for (const text of texts) {
      const value = extractSlot(rule, text);
      if (value) {
        slots[rule.name] = value;
        break;
      }
    }
    if (!slots[rule.name] && rule.required) return undefined;
  }
  return slots;
}

/** The intent's prompt with `{slot}` placeholders filled; undefined if one has no value. */
export function renderPrompt(template: string, slots: Slots): string | undefined {
  let missing = false;
  const text = template.replace(/\{([^{}]*)\}/g, (_, name: string) => {
    const value = slots[name];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : text;
}

/**
 * Replaces slot values by a neutral phrase ("the city") before embedding. Small sentence models
 * weigh names heavily: unmasked, "what should we visit in Shanghai?" is closer to "how do I get to
 * Shanghai from Beijing" than to "what should I see in Paris". Masking both the examples and the
 * user's words makes the intent, not the place, decide (measured in docs/adr/0008).
 */
export function maskSlots(text: string, rules: readonly SlotRule[]): string {
  let masked = text;
  for (const rule of rules) {
    for (let i = 0; i < 8; i++) {
      const value = extractSlot(rule, masked);
      if (!value) break;
      const next = masked.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escape(value)}(?![\\p{L}\\p{N}])`, 'iu'), `the ${rule.name}`);
      if (next === masked) break;
      masked = next;
    }
  }
  return masked;
}

/** Every distinct slot rule of the catalogue's intents (first definition of a name wins). */
export function slotRulesOf(intents: readonly Intent[]): SlotRule[] {
  const rules = new Map<string, SlotRule>();
  for (const intent of intents) for (const rule of intent.slots) if (!rules.has(rule.name)) rules.set(rule.name, rule);
  return [...rules.values()];
}
