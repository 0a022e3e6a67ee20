// Reading proactive prompts aloud with the browser's speech synthesis, when the user turned it on
// and the browser has it. The choice is remembered.
import type { KeyValueStorage } from '../settings/credentials.ts';

const SETTING = 'aip.speakPrompts';

export class Speaker {
  private readonly synthesis: SpeechSynthesis | undefined;
  private readonly Utterance: typeof SpeechSynthesisUtterance | undefined;

  constructor(
    window: Partial<Pick<Window & typeof globalThis, 'speechSynthesis' | 'SpeechSynthesisUtterance'>>,
    private readonly storage: KeyValueStorage,
  ) {
    this.synthesis = 'speechSynthesis' in window ? window.speechSynthesis : undefined;
    this.Utterance = 'SpeechSynthesisUtterance' in window ? window.SpeechSynthesisUtterance : undefined;
  }

  get available(): boolean {
    return Boolean(this.synthesis && this.Utterance);
  }

  get enabled(): boolean {
    return this.available && this.storage.getItem(SETTING) === 'on';
  }

  set enabled(on: boolean) {
    this.storage.setItem(SETTING, on ? 'on' : 'off');
    if (!on) this.synthesis?.cancel();
  }

  /** Queues `text` (the synthesis speaks utterances one after another, in order). */
  say(text: string, lang = 'en'): boolean {
    if (!this.enabled || !this.synthesis || !this.Utterance) return false;
    const utterance = new this.Utterance(text);
    utterance.lang = lang;
    this.synthesis.speak(utterance);
    return true;
  }
}
