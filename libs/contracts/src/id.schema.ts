import { z } from 'zod';

/** Longest id or label, in UTF-16 code units (what the APIs always accepted). */
export const ID_MAX_LENGTH = 128;

// Cc: C0 controls, DEL, C1 controls; Zl, Zp: line and paragraph separators.
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/**
 * What is wrong with the characters of an id (undefined: nothing). Well-formed Unicode (no
 * unpaired surrogate), not blank, no control character or line break: a value the broker takes
 * as a message key, Redis as part of a key, LanceDB as a SQL literal and Qdrant as a JSON string,
 * and that reads the same in logs. Each of these broke something when it was let through: a NUL
 * version made every query of its tenant fail, a lone surrogate threw in `encodeURIComponent`.
 */
export function idCharactersProblem(value: string): string | undefined {
  if (!value.isWellFormed()) return 'must be valid Unicode text (it contains an unpaired surrogate)';
  if (UNPRINTABLE.test(value)) return 'must not contain control characters or line breaks';
  if (value.trim() === '') return 'must not be blank';
  return undefined;
}

/**
 * THE rule for every id and label that names stored things — tenant, knowledge base, document,
 * version label — wherever it enters (HTTP, change-data-capture, object-store notifications,
 * messages) and in the stores, which refuse to write a value they could not filter on later:
 * 1–128 UTF-16 code units that pass {@link idCharactersProblem}. Returns what is wrong, or undefined.
 */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > ID_MAX_LENGTH) return `must be at most ${ID_MAX_LENGTH} characters`;
  return idCharactersProblem(value);
}

export const isValidId = (value: unknown): value is string => idProblem(value) === undefined;

/** {@link idProblem} as a zod schema (its JSON Schema shows the length bounds; the character rule is a refinement). */
export const idSchema = z
  .string()
  .min(1)
  .max(ID_MAX_LENGTH)
  .superRefine((value, ctx) => {
    const problem = idCharactersProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
