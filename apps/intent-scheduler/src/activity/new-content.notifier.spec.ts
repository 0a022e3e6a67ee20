import { createEnvelope } from '@aip/contracts';
import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import type { Decision, PushRequest } from '../scheduler/push.dispatcher.ts';
import { keywordTerms, NewContentNotifier, noticeText } from './new-content.notifier.ts';

const catalogue = parseCatalogue(DEFAULT_CATALOGUE);
const indexed = (keywords: string[] | undefined, tenantId = 'acme') =>
  createEnvelope('kb.document.indexed', { kbId: 'kb1', docId: 'd1', version: 'v2', chunks: 3, embedded: 3, reused: 0, durationMs: 10, ...(keywords ? { keywords } : {}) }, { source: 'test', tenantId });

/** Interests in insertion order = oldest first, like the Redis index scored by time. */
function setup(interests: Record<string, Record<string, string[]>>, outcome: Decision['outcome'] = 'sent', usersPerTerm?: number) {
  const requests: PushRequest[] = [];
  const asked: { tenantId: string; terms: readonly string[] }[] = [];
  const users = {
    usersInterestedIn: async (tenantId: string, terms: readonly string[], _now: number, _ttl: number, perTerm: number) => {
      asked.push({ tenantId, terms });
      const found = new Map<string, string[]>();
      for (const term of terms) {
        const holders = Object.entries(interests[tenantId] ?? {}).filter(([, mine]) => mine.includes(term)).map(([userId]) => userId);
        for (const userId of holders.reverse().slice(0, perTerm)) found.set(userId, [...(found.get(userId) ?? []), term]);
      }
      return found;
    },
  };
  const dispatcher = { dispatch: async (request: PushRequest) => (requests.push(request), { outcome, reason: outcome === 'sent' ? 'none' : 'publish_error' } as Decision) };
  return { notifier: new NewContentNotifier(users, dispatcher, () => catalogue, 30 * 24 * 3_600_000, Date.now, usersPerTerm), requests, asked };
}

describe('new-content notices', () => {
  it('keyword terms: each keyword whole and its longer words, lower case', () => {
    expect([...keywordTerms(['Beijing Hotels', ' Great Wall ', 'AI'])]).toEqual([
      ['beijing hotels', 'Beijing Hotels'],
      ['beijing', 'Beijing Hotels'],
      ['hotels', 'Beijing Hotels'],
      ['great wall', 'Great Wall'],
      ['great', 'Great Wall'],
      ['wall', 'Great Wall'],
      ['ai', 'AI'],
    ]);
  });

  it('notifies every interested user of the event\'s tenant about the matching keywords', async () => {
    const { notifier, requests, asked } = setup({ acme: { alice: ['beijing', 'city_attractions'], bob: ['paris'] }, other: { carol: ['beijing'] } });
    expect(await notifier.onIndexed(indexed(['Beijing', 'Hotels']))).toBe(1);
    expect(asked.map((a) => a.tenantId)).toEqual(['acme']);
    expect(requests).toEqual([
      expect.objectContaining({ kind: 'notice', tenantId: 'acme', userId: 'alice', intent: 'new_content', subject: { doc: 'kb1/d1@v2' }, text: 'New content about Beijing is available.', cooldownMs: 3_600_000 }),
    ]);
  });

  it('notices at most the configured number of users per term, the most recently interested', async () => {
    const { notifier, requests } = setup({ acme: { old: ['beijing'], newer: ['beijing'], newest: ['beijing'] } }, 'sent', 2);
    expect(await notifier.onIndexed(indexed(['Beijing']))).toBe(2);
    expect(requests.map((r) => r.userId).sort()).toEqual(['newer', 'newest']);
  });

  it('does nothing for a document without keywords', async () => {
    const { notifier, asked } = setup({ acme: { alice: ['beijing'] } });
    expect(await notifier.onIndexed(indexed(undefined))).toBe(0);
    expect(asked).toHaveLength(0);
  });

  it('never shows intent ids to the user', () => {
    expect(noticeText([])).toBe('New content you may like is available.');
  });

  it('fails the event (to be retried) when a notice could not be published', async () => {
    const { notifier } = setup({ acme: { alice: ['beijing'] } }, 'failed');
    await expect(notifier.onIndexed(indexed(['Beijing']))).rejects.toThrow('alice');
  });
});
