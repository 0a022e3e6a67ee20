import type { Envelope } from '@aip/contracts';
import type { Catalogue } from '@aip/contracts';
import type { PushDispatcher } from '../scheduler/push.dispatcher.ts';
import type { UserStateStore } from '../state/user-state.store.ts';

export const NEW_CONTENT_INTENT = 'new_content';

/** Terms a document's keywords match: each keyword whole and its words (lower case), mapped to the keyword as written. */
export function keywordTerms(keywords: readonly string[]): Map<string, string> {
  const terms = new Map<string, string>();
  for (const keyword of keywords) {
    const whole = keyword.trim().toLowerCase();
    if (!whole) continue;
    terms.set(whole, keyword.trim());
    for (const word of whole.split(/[^\p{L}\p{N}_'-]+/u)) if (word.length >= 3 && !terms.has(word)) terms.set(word, keyword.trim());
  }
  return terms;
}

export function noticeText(matched: readonly string[]): string {
  return matched.length > 0 ? `New content about ${matched.join(', ')} is available.` : 'New content you may like is available.';
}

/** Users noticed per matching term by default (the most recently interested first). */
export const DEFAULT_NOTICE_USERS_PER_TERM = 1_000;

/**
 * `kb.document.indexed` → a "new content" notice for the users of the tenant whose recorded
 * interests match the document's keywords (per term the `usersPerTerm` most recently interested,
 * so one popular term cannot fan out without bound), through the same rules as proactive prompts.
 */
export class NewContentNotifier {
  constructor(
    private readonly users: Pick<UserStateStore, 'usersInterestedIn'>,
    private readonly dispatcher: Pick<PushDispatcher, 'dispatch'>,
    private readonly catalogue: () => Catalogue,
    private readonly interestTtlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly usersPerTerm = DEFAULT_NOTICE_USERS_PER_TERM,
  ) {}

  async onIndexed(event: Envelope<'kb.document.indexed'>): Promise<number> {
    const { kbId, docId, version, keywords = [] } = event.data;
    const terms = keywordTerms(keywords);
    if (terms.size === 0) return 0;
    const intents = new Set(this.catalogue().intents.map((intent) => intent.id));
    const interested = await this.users.usersInterestedIn(event.tenantId, [...terms.keys()], this.clock(), this.interestTtlMs, this.usersPerTerm);
    let sent = 0;
    for (const [userId, matched] of interested) {
      const shown = [...new Set(matched.filter((term) => !intents.has(term)).map((term) => terms.get(term) ?? term))];
      const decision = await this.dispatcher.dispatch({
        kind: 'notice',
        tenantId: event.tenantId,
        userId,
        intent: NEW_CONTENT_INTENT,
        subject: { doc: `${kbId}/${docId}@${version}` },
        title: 'New content',
        text: noticeText(shown),
        cooldownMs: this.catalogue().defaults.noticeCooldownMs,
      });
      // A failed publish is retried with the whole event (claims of sent notices keep them single).
      if (decision.outcome === 'failed') throw new Error(`notice to ${userId} could not be published`);
      if (decision.outcome === 'sent') sent++;
    }
    return sent;
  }
}
