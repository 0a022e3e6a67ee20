// Wires the page: API key dialog → realtime token → socket; chat over the socket; proactive
// prompts; knowledge upload; reading prompts aloud.
import { ChatView, el } from './chat.js';
import { KnowledgeClient, UploadView } from './knowledge.js';
import { RealtimeClient } from './realtime.js';
import { credentials, httpError, loadConfig, TokenSource } from './settings.js';
import { Speaker } from './speech.js';

const $ = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

const config = await loadConfig();
const tokens = new TokenSource(config);
const knowledge = new KnowledgeClient(() => config.knowledgeUrl, () => credentials.apiKey);
const speaker = new Speaker(window);

const chat = new ChatView(/** @type {HTMLOListElement} */ ($('#messages')), {
  nameOf: (docId) => knowledge.names.get(docId),
  fetchTask: async (taskId) => {
    const response = await fetch(`${config.accessUrl}/v1/tasks/${encodeURIComponent(taskId)}`, { headers: { authorization: `Bearer ${credentials.apiKey}` } });
    if (!response.ok) throw await httpError(response);
    return response.json();
  },
});
const uploads = new UploadView(/** @type {HTMLOListElement} */ ($('#uploads')), knowledge);

// One conversation per browser tab: the server keeps its history under this session id.
const sessionId = sessionStorage.getItem('aip.sessionId') ?? `s-${crypto.randomUUID()}`;
sessionStorage.setItem('aip.sessionId', sessionId);

/** @type {RealtimeClient | undefined} */
let client;

// ------------------------------------------------------------------ connection indicator
const indicator = $('#connection');
const describe = {
  idle: () => 'not connected',
  connecting: (/** @type {any} */ d) => (d.retryInMs !== undefined ? `connecting — retry in ${seconds(d.retryInMs)}` : 'connecting…'),
  open: (/** @type {any} */ d) => (d.reconnects > 0 ? `connected (reconnected${d.reconnects > 1 ? ` ×${d.reconnects}` : ''})` : 'connected'),
  reconnecting: (/** @type {any} */ d) => (d.retryInMs !== undefined ? `connection lost — reconnecting in ${seconds(d.retryInMs)} (attempt ${d.attempt})` : `reconnecting… (attempt ${d.attempt})`),
  offline: () => 'offline — will reconnect when the network is back',
  unauthorized: (/** @type {any} */ d) => `not authorised${d.reason ? `: ${d.reason}` : ''} — check the API key`,
  failed: (/** @type {any} */ d) => `stopped: ${d.reason ?? 'protocol error'}`,
};
const seconds = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** @param {import('./realtime.js').StateDetail} detail */
function showState(detail) {
  indicator.dataset['state'] = detail.state;
  indicator.dataset['reconnects'] = String(detail.reconnects);
  $('#connection .label').textContent = describe[detail.state](detail);
  /** @type {HTMLButtonElement} */ ($('#send')).disabled = detail.state !== 'open';
  if (detail.state !== 'open') chat.interruptStreaming();
  else void chat.recoverInterrupted();
  if (detail.state === 'unauthorized') openKeyDialog(detail.reason);
}

// ------------------------------------------------------------------ realtime
function connect() {
  client?.stop();
  if (!credentials.apiKey) return openKeyDialog();
  const storeKey = `aip.lastPushId.${credentials.userId}`;
  client = new RealtimeClient({
    socketUrl: () => tokens.socketUrl(),
    store: { get: (key) => localStorage.getItem(key), set: (key, value) => localStorage.setItem(key, value) },
    storeKey,
  });
  client.addEventListener('state', (event) => showState(/** @type {CustomEvent} */ (event).detail));
  client.addEventListener('unauthorized', () => tokens.invalidate());
  client.addEventListener('push', (event) => showPush(/** @type {CustomEvent} */ (event).detail));
  client.addEventListener('chat', (event) => chat.onFrame(/** @type {CustomEvent} */ (event).detail));
  client.addEventListener('error', (event) => console.warn('realtime error', /** @type {CustomEvent} */ (event).detail));
  client.start();
}

window.addEventListener('offline', () => client?.networkLost());
window.addEventListener('online', () => client?.networkBack());

// ------------------------------------------------------------------ proactive prompts
/** @param {any} push */
function showPush(push) {
  $('#prompts-empty').hidden = true;
  const label = push.kind === 'proactive' ? push.intent ?? 'suggestion' : push.title ?? 'notice';
  const time = new Date(push.time);
  // Accepting the offer sends it back with the prompt's own words: they carry what it is about (the city).
  const answer = el('button', { type: 'button', class: 'quiet' }, ['Yes, please']);
  answer.addEventListener('click', () => ask(`Yes, please: ${push.text}`));
  const item = el('li', { class: `prompt ${push.kind}`, 'data-push-id': push.id, 'data-intent': push.intent ?? '', 'data-seq': String(push.seq) }, [
    el('span', { class: 'intent' }, [label]),
    el('time', { datetime: time.toISOString() }, [time.toLocaleTimeString()]),
    el('p', {}, [push.text]),
    ...(push.link ? [el('a', { href: push.link, target: '_blank', rel: 'noopener' }, ['open'])] : []),
    ...(push.kind === 'proactive' ? [answer] : []),
  ]);
  $('#prompts').prepend(item);
  chat.addProactive(push);
  speaker.say(push.text);
}

// ------------------------------------------------------------------ chat
/** @param {string} text */
function ask(text) {
  if (!client) return;
  const ref = `c-${crypto.randomUUID()}`;
  chat.addUser(text);
  chat.startAnswer(ref);
  if (!client.sendChat({ ref, text, sessionId, model: config.model })) chat.fail(ref, 'not connected — try again when the connection is back');
}

$('#chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = /** @type {HTMLTextAreaElement} */ ($('#chat-input'));
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  ask(text);
});
$('#chat-input').addEventListener('keydown', (event) => {
  // Enter sends, Shift+Enter is a new line.
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    /** @type {HTMLFormElement} */ ($('#chat-form')).requestSubmit();
  }
});

// ------------------------------------------------------------------ knowledge upload
$('#kb-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const kb = /** @type {HTMLInputElement} */ ($('#kb-name')).value.trim();
  const input = /** @type {HTMLInputElement} */ ($('#kb-files'));
  const files = [...(input.files ?? [])];
  if (!kb || files.length === 0) return;
  void uploads.uploadAll(kb, files).then(() => (input.value = ''));
});

// ------------------------------------------------------------------ speech
const toggle = /** @type {HTMLInputElement} */ ($('#speak-toggle'));
if (speaker.available) {
  toggle.checked = speaker.enabled;
  toggle.addEventListener('change', () => (speaker.enabled = toggle.checked));
} else {
  toggle.disabled = true;
  $('#speak-note').hidden = false;
}

// ------------------------------------------------------------------ API key
const dialog = /** @type {HTMLDialogElement} */ ($('#key-dialog'));
/** @param {string} [problem] */
function openKeyDialog(problem) {
  const error = $('#key-error');
  error.hidden = !problem;
  error.textContent = problem ?? '';
  /** @type {HTMLInputElement} */ ($('#key-input')).value = credentials.apiKey;
  /** @type {HTMLInputElement} */ ($('#user-input')).value = credentials.userId;
  if (!dialog.open) dialog.showModal();
}
$('#key-button').addEventListener('click', () => openKeyDialog());
$('#key-form').addEventListener('submit', () => {
  const key = /** @type {HTMLInputElement} */ ($('#key-input')).value.trim();
  if (!key) return;
  const previousUser = credentials.userId;
  credentials.apiKey = key;
  credentials.userId = /** @type {HTMLInputElement} */ ($('#user-input')).value.trim();
  tokens.invalidate();
  // Another user's suggestions and conversation must not stay on screen: start afresh.
  if (credentials.userId !== previousUser) {
    sessionStorage.removeItem('aip.sessionId');
    return location.reload();
  }
  connect();
});
$('#key-forget').addEventListener('click', () => {
  credentials.apiKey = '';
  tokens.invalidate();
  client?.stop();
  /** @type {HTMLInputElement} */ ($('#key-input')).value = '';
});

document.documentElement.dataset['ready'] = 'true';
connect();
