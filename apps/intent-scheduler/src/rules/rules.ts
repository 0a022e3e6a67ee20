import { createHash } from 'node:crypto';
import type { QuietHours } from '@aip/contracts';
import { inQuietHours, localTime } from './local-time.ts';

/**
 * Why a push did not go out. `streaming` and `user_active` only postpone it (the session is busy
 * right now); every other reason is final for this prompt.
 */
export type SuppressReason = 'opted_out' | 'streaming' | 'user_active' | 'quiet_hours' | 'cooldown' | 'daily_cap' | 'duplicate' | 'expired';

export type Verdict = { outcome: 'send' } | { outcome: 'defer'; reason: 'streaming' | 'user_active' } | { outcome: 'suppress'; reason: SuppressReason };

/** Everything the rules look at, read before deciding. Times are epoch milliseconds. */
export interface RuleInput {
  now: number;
  timezone: string;
  optOut: boolean;
  quietHours: QuietHours | null;
  /** Set while the session's answer is pending or streaming (until this time at the latest). */
  pendingUntil?: number | undefined;
  /** When the user last spoke in the session. */
  lastUserAt?: number | undefined;
  userGraceMs: number;
  /** When this intent was last pushed to this user. */
  lastSentAt?: number | undefined;
  cooldownMs: number;
  /** Pushes to this user on their current local day. */
  sentToday: number;
  dailyCap: number;
  /** The prompt's expiry (proactive prompts only). */
  expiresAt?: number | undefined;
}

type Rule = (input: RuleInput) => Verdict | undefined;

export const optOutRule: Rule = ({ optOut }) => (optOut ? { outcome: 'suppress', reason: 'opted_out' } : undefined);

export const expiryRule: Rule = ({ now, expiresAt }) => (expiresAt !== undefined && now > expiresAt ? { outcome: 'suppress', reason: 'expired' } : undefined);

export const streamingRule: Rule = ({ now, pendingUntil }) => (pendingUntil !== undefined && pendingUntil > now ? { outcome: 'defer', reason: 'streaming' } : undefined);

export const userActiveRule: Rule = ({ now, lastUserAt, userGraceMs }) =>
  lastUserAt !== undefined && now - lastUserAt < userGraceMs ? { outcome: 'defer', reason: 'user_active' } : undefined;

export const quietHoursRule: Rule = ({ now, timezone, quietHours }) =>
  inQuietHours(localTime(now, timezone).minutes, quietHours) ? { outcome: 'suppress', reason: 'quiet_hours' } : undefined;

export const cooldownRule: Rule = ({ now, lastSentAt, cooldownMs }) =>
  lastSentAt !== undefined && now - lastSentAt < cooldownMs ? { outcome: 'suppress', reason: 'cooldown' } : undefined;

export const dailyCapRule: Rule = ({ sentToday, dailyCap }) => (sentToday >= dailyCap ? { outcome: 'suppress', reason: 'daily_cap' } : undefined);

/**
 * The rules in the order they are applied: the user's own choice first, then what makes the
 * moment wrong, then what makes this user had enough. The first one that objects decides.
 */
export const RULES: readonly Rule[] = [optOutRule, expiryRule, streamingRule, userActiveRule, quietHoursRule, cooldownRule, dailyCapRule];

export function evaluate(input: RuleInput, rules: readonly Rule[] = RULES): Verdict {
  for (const rule of rules) {
    const verdict = rule(input);
    if (verdict) return verdict;
  }
  return { outcome: 'send' };
}

/** One push per (user, intent, slot values, local day): a second one with the same key is a duplicate. */
export function dedupeKey(userId: string, intent: string, slots: Record<string, string>, day: string): string {
  const slotPart = Object.keys(slots)
    .sort()
    .map((name) => `${name}=${(slots[name] ?? '').trim().toLowerCase()}`)
    .join('&');
  // Keys stay within the contract's 512 characters whatever the slot values are.
  const slotKey = slotPart.length > 128 ? createHash('sha256').update(slotPart).digest('hex') : slotPart;
  return `${userId}|${intent}|${slotKey}|${day}`;
}
