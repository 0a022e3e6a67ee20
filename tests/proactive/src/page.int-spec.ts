import { eventually } from '@aip/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, type LaunchedBrowser } from './browser.ts';
import { FakeEdge } from './fake-edge.ts';

// The web page (apps/web, as built into apps/web/dist) in a real Chromium against a scripted stand-in for its
// servers: what the user sees when pushes are re-sent, the socket dies, the network goes away,
// an answer is cut off, or a document is uploaded. The cross-service flow with the real apps is
// in proactive.int-spec.ts.
let launched: LaunchedBrowser;
let edge: FakeEdge;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  launched = await launchBrowser();
}, 15 * 60_000);

afterAll(async () => {
  await launched?.close();
});

beforeEach(async () => {
  edge = await FakeEdge.start();
  context = await launched.browser.newContext();
  // Record what speech synthesis is asked to say (headless Chromium has no voices to hear).
  await context.addInitScript(() => {
    const spoken: string[] = [];
    (window as unknown as { spoken: string[] }).spoken = spoken;
    window.speechSynthesis.speak = (utterance: SpeechSynthesisUtterance) => void spoken.push(utterance.text);
  });
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
  await edge?.close();
});

async function signIn(key = 'sk-aip-good', user = 'u-browser') {
  await page.goto(edge.url);
  await page.locator('#key-dialog').waitFor({ state: 'visible' });
  await page.fill('#key-input', key);
  await page.fill('#user-input', user);
  await page.click('#key-form button[type=submit]');
}

const indicator = () => page.locator('#connection .label');
const prompts = () => page.locator('#prompts .prompt');

describe('the web page', () => {
  it('asks for the API key once, connects with a token for the chosen user, and remembers the key', async () => {
    await signIn('sk-aip-wrong');
    await expectText(indicator(), /not authorised/);
    await expectVisible(page.locator('#key-error'));

    await page.fill('#key-input', 'sk-aip-good');
    await page.click('#key-form button[type=submit]');
    await expectText(indicator(), /^connected$/);
    expect(edge.tokensIssued).toEqual([{ user: 'u-browser', token: 'rtt_1' }]);
    expect(edge.current?.token).toBe('rtt_1');
    expect(edge.current?.received[0]).toEqual({ type: 'hello', v: 1 });

    await page.reload();
    await expectText(indicator(), /^connected$/);
    expect(await page.locator('#key-dialog').isVisible()).toBe(false);
  });

  it('streams an answer with its sources', async () => {
    await signIn();
    await expectText(indicator(), /^connected$/);
    await page.fill('#chat-input', 'Which sights are in Beijing?');
    await page.press('#chat-input', 'Enter');

    const answer = page.locator('.message.assistant').last();
    await eventually(async () => (await answer.getAttribute('data-status')) === 'done', 'the answer to finish');
    expect(await answer.locator('.text').textContent()).toBe('The Forbidden City and the Great Wall.');
    expect(await answer.locator('.sources li').allTextContents()).toEqual(['[1] doc-1 §1']);
    expect(await answer.locator('.meta').textContent()).toBe('extractive · 12 tokens');
    const chat = edge.current!.received.find((f) => f['type'] === 'chat');
    expect(chat).toMatchObject({ text: 'Which sights are in Beijing?', model: 'extractive', sessionId: expect.stringMatching(/^s-/) });
  });

  it('shows each proactive prompt once, distinctly with its intent, acks it and reads it aloud when asked to', async () => {
    await signIn();
    await expectText(indicator(), /^connected$/);
    await page.check('#speak-toggle');
    const connection = edge.current!;
    edge.push(connection, { id: '1764000000000-0', seq: 1, text: 'Want hotel suggestions in Beijing?' });
    // A re-send of the same push (the server had not seen the ack yet) and the next one.
    edge.push(connection, { id: '1764000000000-0', seq: 1, text: 'Want hotel suggestions in Beijing?', redelivery: 1 });
    edge.push(connection, { id: '1764000000500-0', seq: 2, text: 'A museum pass for Beijing?', intent: 'museum_pass' });

    await eventually(async () => (await prompts().count()) === 2, 'two prompts on the page');
    expect(await prompts().locator('p').allTextContents()).toEqual(['A museum pass for Beijing?', 'Want hotel suggestions in Beijing?']);
    expect(await prompts().locator('.intent').allTextContents()).toEqual(['museum_pass', 'hotel_suggest']);
    expect(await page.locator('.message.proactive').count()).toBe(2);
    await eventually(() => edge.acked().filter((id) => id === '1764000000000-0').length === 2 && edge.acked().includes('1764000000500-0'), 'every delivery acked, re-sends included');
    expect(await page.evaluate(() => (window as unknown as { spoken: string[] }).spoken)).toEqual(['Want hotel suggestions in Beijing?', 'A museum pass for Beijing?']);
  });

  it('reconnects after the socket dies, says so, and resumes from the last push it received', async () => {
    await signIn();
    await expectText(indicator(), /^connected$/);
    edge.push(edge.current!, { id: '1764000000000-0', seq: 1, text: 'Hotels in Beijing?' });
    await eventually(async () => (await prompts().count()) === 1, 'the first prompt');

    edge.refuse = true;
    edge.current!.socket.terminate();
    await expectText(indicator(), /connection lost — reconnecting in [\d.]+ s/);
    expect(await page.locator('#send').isDisabled()).toBe(true);
    edge.refuse = false;

    await expectText(indicator(), /^connected \(reconnected\)$/, 60_000);
    const resumed = edge.current!;
    expect(resumed.received[0]).toEqual({ type: 'hello', v: 1, lastPushId: '1764000000000-0' });
    // The server re-sends what may not have been acked, then the push that arrived meanwhile.
    edge.push(resumed, { id: '1764000000000-0', seq: 1, text: 'Hotels in Beijing?', redelivery: 1 });
    edge.push(resumed, { id: '1764000009000-0', seq: 2, text: 'Hotels in Shanghai?' });
    await eventually(async () => (await prompts().count()) === 2, 'the missed prompt');
    expect(await prompts().locator('p').allTextContents()).toEqual(['Hotels in Shanghai?', 'Hotels in Beijing?']);

    // A reload resumes from the stored id too.
    await page.reload();
    await expectText(indicator(), /^connected$/);
    expect(edge.current!.received[0]).toEqual({ type: 'hello', v: 1, lastPushId: '1764000009000-0' });
  });

  it('goes offline with the network, reconnects as soon as it is back, and fetches the answer that was cut off', async () => {
    await signIn();
    await expectText(indicator(), /^connected$/);
    // The answer starts, then the network goes away before it is done.
    edge.onChat = (connection, frame) => {
      connection.socket.send(JSON.stringify({ type: 'accepted', ref: frame.ref, taskId: 'task-cut' }));
      connection.socket.send(JSON.stringify({ type: 'delta', ref: frame.ref, taskId: 'task-cut', text: 'The Forbidden' }));
    };
    await page.fill('#chat-input', 'Which sights are in Beijing?');
    await page.click('#send');
    const answer = page.locator('.message.assistant').last();
    await eventually(async () => (await answer.locator('.text').textContent()) === 'The Forbidden', 'the first delta');

    await context.setOffline(true);
    await expectText(indicator(), /^offline/);
    expect(await answer.getAttribute('data-status')).toBe('interrupted');
    edge.tasks.set('task-cut', { id: 'task-cut', status: 'completed', model: 'extractive', result: 'The Forbidden City.', usage: { totalTokens: 9 }, sources: [{ docId: 'doc-9' }] });

    await context.setOffline(false);
    await expectText(indicator(), /^connected \(reconnected\)$/);
    await eventually(async () => (await answer.getAttribute('data-status')) === 'done', 'the interrupted answer fetched from the task API');
    expect(await answer.locator('.text').textContent()).toBe('The Forbidden City.');
    expect(await answer.locator('.sources li').allTextContents()).toEqual(['[1] doc-9']);
  });

  it('starts afresh when the user is switched: no suggestions of the previous user, a token for the new one', async () => {
    await signIn();
    await expectText(indicator(), /^connected$/);
    edge.push(edge.current!, { id: '1764000000000-0', seq: 1, text: 'Hotels in Beijing?' });
    await eventually(async () => (await prompts().count()) === 1, 'the first user\'s prompt');

    await page.click('#key-button');
    await page.fill('#user-input', 'u-other');
    await page.click('#key-form button[type=submit]');
    await eventually(() => edge.tokensIssued.at(-1)?.user === 'u-other', 'a token for the new user');
    await expectText(indicator(), /^connected$/);
    expect(await prompts().count()).toBe(0);
    expect(await page.locator('#messages li').count()).toBe(0);
    expect(edge.current!.received[0]).toEqual({ type: 'hello', v: 1 }); // the new user has received nothing yet
  });

  it('uploads documents with progress through sending and indexing', async () => {
    await signIn();
    await page.fill('#kb-name', 'travel');
    await page.setInputFiles('#kb-files', [
      { name: 'hotels.md', mimeType: 'text/markdown', buffer: Buffer.from('# Hotels in Beijing\n\nThe Peninsula.\n'.repeat(2_000)) },
      { name: 'sights.txt', mimeType: 'text/plain', buffer: Buffer.from('The Forbidden City.') },
    ]);
    await page.click('#kb-form button[type=submit]');

    const rows = page.locator('#uploads .upload');
    const seen = new Set<string>();
    await eventually(async () => {
      for (const status of await rows.evaluateAll((items) => items.map((item) => `${(item as HTMLElement).dataset['status']}:${item.querySelector('.status')?.textContent}`))) seen.add(status);
      return (await rows.evaluateAll((items) => items.filter((item) => (item as HTMLElement).dataset['status'] === 'indexed').length)) === 2;
    }, 'both documents indexed');
    expect([...seen].some((s) => /^indexing:indexing \d+%$/.test(s))).toBe(true);
    expect(await rows.locator('.status').allTextContents()).toEqual(['indexed · 3 chunks', 'indexed · 3 chunks']);
    expect(await rows.locator('progress').evaluateAll((bars) => bars.map((bar) => (bar as HTMLProgressElement).value))).toEqual([1, 1]);
    const sizes = [...edge.documents.values()].map((d) => d.bytes).sort((a, b) => a - b);
    expect(sizes[1]).toBeGreaterThan(70_000); // the whole file went up, as multipart
  });
});

async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp, timeoutMs = 30_000) {
  let last: string | null = null;
  await eventually(async () => pattern.test((last = await locator.textContent()) ?? ''), `text ${pattern}`, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
  });
}

async function expectVisible(locator: ReturnType<Page['locator']>) {
  await locator.waitFor({ state: 'visible', timeout: 10_000 });
}
