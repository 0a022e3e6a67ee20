import type { Catalogue } from '@aip/contracts';
import type { Slots } from './slots.ts';

/** One classified user turn: which intent, how sure, and slots if the classifier found them. */
export interface Classification {
  intent: string;
  score: number;
  /** Index into the texts handed to `classify` (0 = newest). */
  turn: number;
  /** Slots the classifier extracted itself (the chat model); rules fill what is missing. */
  slots?: Slots;
}

/**
 * Decides the intent of the recent user turns (newest first) among the catalogue's `user_turns`
 * intents, or undefined when none is clear enough.
 */
export interface IntentClassifier {
  readonly name: string;
  classify(texts: readonly string[], catalogue: Catalogue): Promise<Classification | undefined>;
}

export const INTENT_CLASSIFIER = Symbol('INTENT_CLASSIFIER');
