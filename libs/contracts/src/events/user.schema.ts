import { z } from 'zod';
import { idCharactersProblem, idSchema } from '../id.schema.ts';

/** Most interests a profile holds, and the longest one. */
export const MAX_INTERESTS = 32;
export const MAX_INTEREST_LENGTH = 64;
/** Longest preference name. */
export const MAX_PREFERENCE_KEY_LENGTH = 64;
/** Most bytes (UTF-8) of all preferences together, names and values, as JSON: they all go into every prompt. */
export const MAX_PREFERENCES_BYTES = 4_096;
export const MAX_DISPLAY_NAME_LENGTH = 100;

// Every profile text ends up in a system prompt: a line break or control character there could
// start what reads as a new instruction, so none is let in (the id rule's character check).
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((value, ctx) => {
      const problem = idCharactersProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

/** A BCP 47 language tag, stored in its canonical form (`en-us` → `en-US`). */
export const languageTag = z
  .string()
  .min(1)
  .max(64)
  .transform((value, ctx) => {
    try {
      const [canonical] = Intl.getCanonicalLocales(value);
      if (canonical) return canonical;
    } catch {
      // RangeError: not a well-formed tag.
    }
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a BCP 47 language tag (e.g. "en", "de-CH", "zh-Hans-CN")` });
    return z.NEVER;
  });

/**
 * An IANA time zone the runtime knows (`Europe/Berlin`, `UTC`), stored as the runtime names it
 * (`asia/shanghai` → `Asia/Shanghai`). UTC offsets (`+08:00`), which newer runtimes also take, are
 * not zones: they do not follow daylight saving time.
 */
export const ianaTimeZone = z
  .string()
  .min(1)
  .max(64)
  .transform((value, ctx) => {
    if (/^[A-Za-z]/.test(value)) {
      try {
        return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
      } catch {
        // RangeError: unknown zone.
      }
    }
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an IANA time zone (e.g. "Europe/Berlin", "America/New_York", "UTC")` });
    return z.NEVER;
  });

const preferences = z
  .record(printable(MAX_PREFERENCE_KEY_LENGTH), z.string().max(MAX_PREFERENCES_BYTES).superRefine((value, ctx) => {
    if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(value) || !value.isWellFormed()) ctx.addIssue({ code: 'custom', message: 'must be valid text without control characters or line breaks' });
  }))
  .superRefine((value, ctx) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
    if (bytes > MAX_PREFERENCES_BYTES) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_PREFERENCES_BYTES} bytes as JSON (UTF-8) in total, is ${bytes}` });
  });

/**
 * What the platform knows about an end user, set through access (`/v1/users/{userId}/profile`)
 * and read into the system prompt of every answer to them. Every field is optional; a field the
 * schema does not know is refused (a typo must not be stored silently and never used).
 */
export const userProfile = z
  .object({
    displayName: printable(MAX_DISPLAY_NAME_LENGTH).optional(),
    language: languageTag.optional(),
    timeZone: ianaTimeZone.optional(),
    interests: z.array(printable(MAX_INTEREST_LENGTH)).max(MAX_INTERESTS).optional(),
    /** Free-form (tone, units, diet...), bounded in total. */
    preferences: preferences.optional(),
  })
  .strict();

export type UserProfile = z.infer<typeof userProfile>;

/** A user's profile was created or replaced or changed: the whole profile as it now is. */
export const userProfileUpdated = z.object({
  userId: idSchema,
  profile: userProfile,
  /**
   * Grows with every change of this user's profile, deletions included: a consumer that sees a
   * revision at or below one it applied drops the event (two writes racing may publish out of order).
   */
  revision: z.number().int().positive(),
  updatedAt: z.iso.datetime({ offset: true }),
});

/** A user's profile was deleted: nothing about them is read into prompts any more. */
export const userProfileDeleted = z.object({
  userId: idSchema,
  revision: z.number().int().positive(),
  deletedAt: z.iso.datetime({ offset: true }),
});

/**
 * A conversation was deleted (by its owner, through access): its items and stored responses are
 * gone; a consumer drops whatever it derived from it (the intent-scheduler its proactive state).
 */
export const conversationDeleted = z.object({
  conversationId: idSchema,
  /** The end user it belonged to; absent when an API key made it for nobody in particular. */
  userId: idSchema.optional(),
  deletedAt: z.iso.datetime({ offset: true }),
});
