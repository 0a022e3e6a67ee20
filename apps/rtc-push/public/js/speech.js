// Reading proactive prompts aloud with the browser's speech synthesis, when the user turned it on
// and the browser has it. The choice is remembered.

const SETTING = 'aip.speakPrompts';

export class Speaker {
  /** @param {Window & typeof globalThis} window */
  constructor(window) {
    /** @type {SpeechSynthesis | undefined} */
    this.synthesis = 'speechSynthesis' in window ? window.speechSynthesis : undefined;
    /** @type {typeof SpeechSynthesisUtterance | undefined} */
    this.Utterance = 'SpeechSynthesisUtterance' in window ? window.SpeechSynthesisUtterance : undefined;
  }

  get available() {
    return Boolean(this.synthesis && this.Utterance);
  }

  get enabled() {
    return this.available && localStorage.getItem(SETTING) === 'on';
  }

  set enabled(on) {
    localStorage.setItem(SETTING, on ? 'on' : 'off');
    if (!on) this.synthesis?.cancel();
  }

  /** Queues `text` (the synthesis speaks utterances one after another, in order). @param {string} text @param {string} [lang] */
  say(text, lang = document.documentElement.lang || 'en') {
    if (!this.enabled || !this.synthesis || !this.Utterance) return false;
    const utterance = new this.Utterance(text);
    utterance.lang = lang;
    this.synthesis.speak(utterance);
    return true;
  }
}
