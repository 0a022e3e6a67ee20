import type { Catalogue, Intent } from '@aip/contracts';
import type { IntentClassifier } from './classifier.port.ts';
import { extractSlots, renderPrompt, type Slots } from './slots.ts';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** A prompt the session may get once it is due and the rules allow it. */
export interface Candidate {
  intent: string;
  slots: Slots;
  text: string;
  score: number;
  dueAt: number;
  expiresAt: number;
}

export type AnalysisOutcome = { candidates: Candidate[]; skipped: { intent: string; reason: 'slot_missing' }[] };

/** The assistant's last turn asks the user something (ends with a question mark, any script). */
export function endsWithQuestion(turns: readonly Turn[]): boolean {
  const last = turns.at(-1);
  return last?.role === 'assistant' && /[?？]\s*["'”’)]*\s*$/u.test(last.content);
}

function candidate(intent: Intent, slots: Slots, score: number, lastActivityAt: number): Candidate | undefined {
  const text = renderPrompt(intent.prompt, slots);
  if (text === undefined) return undefined;
  const dueAt = lastActivityAt + intent.delayMs;
  return { intent: intent.id, slots, text, score, dueAt, expiresAt: dueAt + intent.expiresAfterMs };
}

/**
 * What a conversation could lead to: at most one intent from the user's words (the classifier)
 * and the check-in after an unanswered question. Turns are oldest first, as the history stores them.
 */
export async function analyse(turns: readonly Turn[], lastActivityAt: number, catalogue: Catalogue, classifier: IntentClassifier): Promise<AnalysisOutcome> {
  const outcome: AnalysisOutcome = { candidates: [], skipped: [] };
  const userTexts = turns.filter((turn) => turn.role === 'user').map((turn) => turn.content).reverse();
  const classified = userTexts.length > 0 ? await classifier.classify(userTexts, catalogue) : undefined;
  const intent = classified && catalogue.intents.find((i) => i.id === classified.intent && i.trigger === 'user_turns');
  if (classified && intent) {
    // The classifying turn first, then the others newest first, so the city of this question wins.
    const texts = [...userTexts.slice(classified.turn, classified.turn + 1), ...userTexts.filter((_, i) => i !== classified.turn)];
    const ruled = extractSlots({ ...intent, slots: intent.slots.map((slot) => ({ ...slot, required: slot.required && !classified.slots?.[slot.name] })) }, texts);
    const slots = ruled && { ...ruled, ...classified.slots };
    const made = slots && candidate(intent, slots, classified.score, lastActivityAt);
    if (made) outcome.candidates.push(made);
    else outcome.skipped.push({ intent: intent.id, reason: 'slot_missing' });
  }
  if (endsWithQuestion(turns)) {
    for (const checkIn of catalogue.intents.filter((i) => i.trigger === 'assistant_question')) {
      const made = candidate(checkIn, {}, 1, lastActivityAt);
      if (made) outcome.candidates.push(made);
    }
  }
  return outcome;
}
