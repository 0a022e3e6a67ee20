// The intent catalogue: a run-time document (PUT /admin/config/intents on access) read by the
// intent scheduler. Here because both access (validation) and the scheduler (use) need it.
import { z } from 'zod';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day "HH:MM" (24 h)');

/** A daily window in the user's local time; `start` > `end` wraps midnight (22:00–08:00). */
export const quietHoursSchema = z.object({ start: clock, end: clock });
export type QuietHours = z.infer<typeof quietHoursSchema>;

const compiles = (source: string) => {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
};

/**
 * How one slot is filled from the user's words: a gazetteer of known values (matched as whole
 * words, case-insensitively, returned in the gazetteer's spelling), then regular expressions whose
 * first capture group is the value (e.g. a capitalised word after "in"/"to").
 */
export const slotRuleSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a slot name: lower case letters, digits, _'),
  gazetteer: z.array(z.string().min(1).max(128)).max(10_000).default([]),
  patterns: z
    .array(
      z
        .string()
        .min(1)
        .max(512)
        .refine(compiles, 'not a valid regular expression (flags "u")')
        .refine((source) => !compiles(source) || (new RegExp(`${source}|`, 'u').exec('')?.length ?? 0) > 1, 'needs a capture group: the first group is the value'),
    )
    .max(32)
    .default([]),
  /** Without a required slot the intent leads to no prompt. */
  required: z.boolean().default(true),
});
export type SlotRule = z.infer<typeof slotRuleSchema>;

const id = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'an intent id: lower case letters, digits, _');

export const intentSchema = z.object({
  id,
  description: z.string().min(1).max(1_000),
  /**
   * `user_turns`: the recent user turns match the example phrases (similarity or the chat model).
   * `assistant_question`: the last turn is the assistant's question and the user has been silent
   * for `delayMs`.
   */
  trigger: z.enum(['user_turns', 'assistant_question']).default('user_turns'),
  examples: z.array(z.string().min(1).max(1_000)).max(200).default([]),
  slots: z.array(slotRuleSchema).max(16).default([]),
  /** The proactive prompt; `{slot}` placeholders are filled with the extracted values. */
  prompt: z.string().min(1).max(4_000),
  /** Wait this long after the session's last activity before pushing (the silence for check-ins). */
  delayMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(0),
  /** Drop the prompt if it could not be sent within this long after it became due. */
  expiresAfterMs: z.number().int().min(1_000).max(7 * 24 * 3_600_000).default(30 * 60_000),
  /** At most one push of this intent per user in this period. */
  cooldownMs: z.number().int().min(0).max(30 * 24 * 3_600_000).default(12 * 3_600_000),
  /** Overrides the catalogue's similarity threshold for this intent. */
  threshold: z.number().min(-1).max(1).optional(),
  /** Record the intent and its slot values as the user's interests (new-content notices). */
  recordInterest: z.boolean().default(true),
});
export type Intent = z.infer<typeof intentSchema>;

export const intentCatalogueSchema = z
  .object({
    /** Minimum cosine similarity of a user turn to an intent's closest example. */
    threshold: z.number().min(-1).max(1).default(0.5),
    /** The best intent must beat the runner-up (another intent) by this much, or the turn is ambiguous. */
    margin: z.number().min(0).max(2).default(0.05),
    /** How many of the most recent user turns are looked at (newest first). */
    userTurns: z.number().int().min(1).max(20).default(3),
    defaults: z
      .object({
        /** Time zone of users who have not set one (IANA name). */
        timezone: z.string().refine(isTimeZone, 'an IANA time zone, e.g. "Europe/Berlin"').default('UTC'),
        /** Quiet hours of users who have not set their own but whose time zone is known; null = none. */
        quietHours: quietHoursSchema.nullable().default({ start: '22:00', end: '08:00' }),
        /** Proactive prompts and notices per user and local day. */
        dailyCap: z.number().int().min(0).max(1_000).default(3),
        /** No push while the user spoke within this long (they are typing or reading). */
        userGraceMs: z.number().int().min(0).max(3_600_000).default(10_000),
        /** Cooldown of new-content notices per user. */
        noticeCooldownMs: z.number().int().min(0).max(30 * 24 * 3_600_000).default(3_600_000),
      })
      .prefault({}),
    intents: z.array(intentSchema).min(1).max(500),
  })
  .superRefine((catalogue, ctx) => {
    const seen = new Set<string>();
    catalogue.intents.forEach((intent, index) => {
      if (seen.has(intent.id)) ctx.addIssue({ code: 'custom', path: ['intents', index, 'id'], message: `duplicate intent id "${intent.id}"` });
      seen.add(intent.id);
      if (intent.trigger === 'user_turns' && intent.examples.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['intents', index, 'examples'], message: 'a user_turns intent needs at least one example phrase' });
      }
      const slots = new Set(intent.slots.map((slot) => slot.name));
      for (const [, name = ''] of intent.prompt.matchAll(/\{([^{}]*)\}/g)) {
        if (!slots.has(name)) ctx.addIssue({ code: 'custom', path: ['intents', index, 'prompt'], message: `placeholder {${name}} is not a slot of "${intent.id}"` });
      }
      intent.slots.forEach((slot, s) => {
        if (slot.gazetteer.length === 0 && slot.patterns.length === 0) {
          ctx.addIssue({ code: 'custom', path: ['intents', index, 'slots', s], message: `slot "${slot.name}" needs a gazetteer or a pattern` });
        }
      });
    });
  });

export type Catalogue = z.infer<typeof intentCatalogueSchema>;
export type CatalogueInput = z.input<typeof intentCatalogueSchema>;

export class CatalogueError extends Error {
  override readonly name = 'CatalogueError';
  readonly issues: readonly { path: string; message: string }[];
  constructor(issues: readonly { path: string; message: string }[]) {
    super(`invalid intent catalogue:\n${issues.map((issue) => `  ${issue.path || '(root)'}: ${issue.message}`).join('\n')}`);
    this.issues = issues;
  }
}

/** Validates an intent catalogue document; throws CatalogueError naming every bad field. */
export function parseCatalogue(input: unknown): Catalogue {
  const result = intentCatalogueSchema.safeParse(input);
  if (result.success) return result.data;
  throw new CatalogueError(result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
