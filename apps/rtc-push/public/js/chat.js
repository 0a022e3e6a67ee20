// The conversation: the user's messages, answers streamed delta by delta with their sources, and
// proactive prompts shown in line (distinct style) so the conversation reads in order. An answer
// cut off by a lost connection is fetched from access's task API once the page is back.

/** @param {string} tag @param {Record<string, string>} [attributes] @param {(Node | string)[]} [children] */
export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/**
 * A short label for a cited passage; document names the page uploaded itself replace ids.
 * @param {{ docId: string, version?: string, position?: number, title?: string }} source
 * @param {(docId: string) => string | undefined} nameOf
 */
export function sourceLabel(source, nameOf) {
  const name = source.title ?? nameOf(source.docId) ?? source.docId;
  return source.position !== undefined ? `${name} §${source.position + 1}` : name;
}

export class ChatView {
  /**
   * @param {HTMLOListElement} list
   * @param {{ nameOf: (docId: string) => string | undefined, fetchTask: (taskId: string) => Promise<any> }} helpers
   */
  constructor(list, helpers) {
    this.list = list;
    this.helpers = helpers;
    /** @type {Map<string, { item: HTMLElement, text: HTMLElement, meta: HTMLElement, taskId?: string, done: boolean }>} */
    this.answers = new Map();
  }

  /** @param {string} text */
  addUser(text) {
    this.append(el('li', { class: 'message user', 'data-role': 'user' }, [text]));
  }

  /** @param {string} ref */
  startAnswer(ref) {
    const text = el('span', { class: 'text' });
    const meta = el('span', { class: 'meta' }, ['waiting for an answer…']);
    const item = el('li', { class: 'message assistant', 'data-role': 'assistant', 'data-ref': ref, 'data-status': 'streaming' }, [text, meta]);
    this.answers.set(ref, { item, text, meta, done: false });
    this.append(item);
  }

  /**
   * A frame of one chat (accepted, delta, sources, done, error).
   * @param {any} frame
   */
  onFrame(frame) {
    const answer = this.answers.get(frame.ref);
    if (!answer || answer.done) return;
    switch (frame.type) {
      case 'accepted':
        answer.taskId = frame.taskId;
        answer.item.dataset['taskId'] = frame.taskId;
        answer.meta.textContent = 'thinking…';
        return;
      case 'delta':
        if (frame.reset) answer.text.textContent = '';
        answer.text.textContent += frame.text;
        answer.meta.textContent = '';
        this.scroll();
        return;
      case 'sources':
        this.showSources(answer, frame.sources);
        return;
      case 'done':
        answer.done = true;
        answer.item.dataset['status'] = 'done';
        answer.meta.textContent = `${frame.model} · ${frame.usage.totalTokens} tokens${frame.finishReason === 'length' ? ' · cut at the length limit' : ''}`;
        return;
      case 'error':
        answer.done = true;
        answer.item.dataset['status'] = 'failed';
        answer.meta.textContent = `${frame.message}${frame.retryAfterMs ? ` — try again in ${Math.ceil(frame.retryAfterMs / 1000)} s` : ''}`;
        return;
    }
  }

  /** @param {string} ref @param {string} message */
  fail(ref, message) {
    this.onFrame({ type: 'error', ref, message });
  }

  /** The socket went away: answers still streaming can no longer arrive on it. */
  interruptStreaming() {
    for (const answer of this.answers.values()) {
      if (answer.done || answer.item.dataset['status'] === 'interrupted') continue;
      answer.item.dataset['status'] = 'interrupted';
      answer.meta.textContent = answer.taskId ? 'connection lost — the answer will be fetched when the connection is back' : 'connection lost before the message was accepted';
      if (!answer.taskId) answer.done = true;
    }
  }

  /** Back online: fetch every interrupted answer from the task API (chat answers are not resumable over the socket). */
  async recoverInterrupted() {
    const pending = [...this.answers.entries()].filter(([, answer]) => !answer.done && answer.item.dataset['status'] === 'interrupted' && answer.taskId);
    await Promise.all(pending.map(([ref, answer]) => this.recover(ref, answer)));
  }

  /** @param {string} ref @param {{ item: HTMLElement, text: HTMLElement, meta: HTMLElement, taskId?: string, done: boolean }} answer */
  async recover(ref, answer) {
    answer.meta.textContent = 'fetching the answer…';
    for (let attempt = 0; attempt < 60 && !answer.done; attempt++) {
      try {
        const task = await this.helpers.fetchTask(/** @type {string} */ (answer.taskId));
        if (task.status === 'completed') {
          answer.text.textContent = task.result ?? '';
          if (task.sources?.length) this.showSources(answer, task.sources);
          return this.onFrame({ type: 'done', ref, finishReason: task.finishReason ?? 'stop', model: task.model, usage: task.usage ?? { totalTokens: 0 } });
        }
        if (['failed', 'rejected', 'cancelled'].includes(task.status)) return this.fail(ref, task.error?.message ?? `the request was ${task.status}`);
      } catch (error) {
        if (/** @type {{ status?: number }} */ (error).status === 404) return this.fail(ref, 'the answer is no longer available');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)));
    }
  }

  /**
   * @param {{ item: HTMLElement }} answer
   * @param {{ docId: string, version?: string, position?: number, title?: string }[]} sources
   */
  showSources(answer, sources) {
    answer.item.querySelector('.sources')?.remove();
    const items = sources.map((source, index) => el('li', { title: `${source.docId}${source.version ? ` (version ${source.version})` : ''}` }, [`[${index + 1}] ${sourceLabel(source, this.helpers.nameOf)}`]));
    answer.item.append(el('ol', { class: 'sources', 'aria-label': 'Sources' }, items));
  }

  /** A proactive prompt, in line with the conversation (the side panel keeps the list). @param {any} push */
  addProactive(push) {
    const label = push.kind === 'proactive' ? push.intent ?? 'suggestion' : push.title ?? 'notice';
    this.append(el('li', { class: 'message proactive', 'data-role': 'proactive', 'data-push-id': push.id }, [el('span', { class: 'meta' }, [`suggested · ${label}`]), push.text]));
  }

  /** @param {HTMLElement} item */
  append(item) {
    this.list.append(item);
    this.scroll();
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
