import { idProblem, isValidId, userProfile, type UserProfile } from '@aip/contracts';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A profile as stored: the profile, and the revision and time of its last change. */
export interface StoredProfile {
  profile: UserProfile;
  revision: number;
  updatedAt: string;
}

/** A request a profile store refused: `param` names the field (`preferences`, `timeZone`...). */
export class InvalidProfileError extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
    this.name = 'InvalidProfileError';
  }
}

/**
 * A merge patch of a profile (RFC 7396): a field sent replaces the stored one, `null` removes it.
 * `preferences` merge one level down (`{"preferences": {"tone": null}}` removes one preference);
 * `interests` is a list and is replaced whole. Values are checked against the profile schema once
 * merged, so the size limits hold for the result.
 */
export const profilePatch = z
  .object({
    displayName: z.unknown(),
    language: z.unknown(),
    timeZone: z.unknown(),
    interests: z.unknown(),
    preferences: z.union([z.null(), z.record(z.string(), z.unknown())]),
  })
  .partial()
  .strict();

export type ProfilePatch = z.infer<typeof profilePatch>;

/** The first problem of a zod result as an {@link InvalidProfileError}. */
function refused(error: z.ZodError, root: string | null = null): InvalidProfileError {
  const [issue] = error.issues;
  const path = issue?.path.map(String).join('.');
  const param = path || root;
  const message = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; a profile has displayName, language, timeZone, interests and preferences` : (issue?.message ?? 'invalid profile');
  return new InvalidProfileError(param ? `${param}: ${message}` : message, param);
}

/** Validates a whole profile (PUT): the stored form, canonical language tag and time zone. */
export function parseProfile(value: unknown): UserProfile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidProfileError('a profile is a JSON object', null);
  const parsed = userProfile.safeParse(value);
  if (!parsed.success) throw refused(parsed.error);
  return parsed.data;
}

/** `current` with `patch` applied (see {@link profilePatch}), validated. */
export function mergeProfile(current: UserProfile, patch: unknown): UserProfile {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new InvalidProfileError('a profile patch is a JSON object', null);
  const shape = profilePatch.safeParse(patch);
  if (!shape.success) throw refused(shape.error);
  const merged: Record<string, unknown> = { ...current };
  for (const [field, value] of Object.entries(shape.data)) {
    if (value === undefined) continue;
    if (value === null) delete merged[field];
    else if (field === 'preferences') {
      const preferences: Record<string, unknown> = { ...current.preferences };
      for (const [name, preference] of Object.entries(value as Record<string, unknown>)) {
        if (preference === null) delete preferences[name];
        // defineProperty: a preference named "__proto__" is a preference, not the prototype.
        else Object.defineProperty(preferences, name, { value: preference, enumerable: true, writable: true, configurable: true });
      }
      if (Object.keys(preferences).length > 0) merged['preferences'] = preferences;
      else delete merged['preferences'];
    } else merged[field] = value;
  }
  return parseProfile(merged);
}

/** The stored JSON of a profile: fields in schema order, absent ones left out. */
export function serialiseProfile(profile: UserProfile): string {
  return JSON.stringify(userProfile.parse(profile));
}

/** A stored profile, or undefined when what is stored is not one (written by hand, or by an older schema). */
export function deserialiseProfile(json: string | null | undefined): UserProfile | undefined {
  if (!json) return undefined;
  try {
    const parsed = userProfile.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function assertIds(tenantId: string, userId: string) {
  const tenantProblem = idProblem(tenantId);
  if (tenantProblem) throw new InvalidProfileError(`tenant id ${tenantProblem}`, 'tenantId');
  const userProblem = idProblem(userId);
  if (userProblem) throw new InvalidProfileError(`userId ${userProblem}`, 'userId');
}

// Writes a profile when the revision is still the one it was read at ('' = whatever it is). The
// revision survives a deletion (see DELETE_LUA), so it only ever grows for one user.
const WRITE_LUA = `
local revision = redis.call('HGET', KEYS[1], 'revision') or '0'
if ARGV[1] ~= '' and revision ~= ARGV[1] then return -1 end
local next = redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('HSET', KEYS[1], 'profile', ARGV[2], 'updatedAt', ARGV[3])
redis.call('PERSIST', KEYS[1])
return next
`;

// Removes the profile and keeps the revision a while, so a profile created again right after
// publishes revisions above the deletion's: consumers order events by revision.
const DELETE_LUA = `
if redis.call('HEXISTS', KEYS[1], 'profile') == 0 then return 0 end
local next = redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('HDEL', KEYS[1], 'profile', 'updatedAt')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return next
`;

// Each round of racing patches lets at least one through: 20 rounds outlast 20 writers to one user.
const PATCH_ATTEMPTS = 20;

/**
 * `user:{tenant:user}:profile`: what the platform knows about an end user (display name,
 * language, time zone, interests, preferences), read into the system prompt of every answer to
 * them. One hash per user of a tenant — the tenant is part of the key, so no tenant reads
 * another's — with the profile as JSON (`profile`), `updatedAt`, and a `revision` that grows with
 * every change. Only what the schema accepts is written, and a read that finds anything else
 * reports no profile rather than a wrong one.
 */
export class ProfileStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: { prefix?: string; clock?: () => Date; deletedRevisionTtlMs?: number } = {},
  ) {}

  private key(tenantId: string, userId: string) {
    return `${this.options.prefix ?? ''}user:{${tenantId}:${userId}}:profile`;
  }

  private now(): string {
    return (this.options.clock?.() ?? new Date()).toISOString();
  }

  async get(tenantId: string, userId: string): Promise<StoredProfile | undefined> {
    assertIds(tenantId, userId);
    const [json, revision, updatedAt] = await this.redis.hmget(this.key(tenantId, userId), 'profile', 'revision', 'updatedAt');
    const profile = deserialiseProfile(json);
    return profile && updatedAt ? { profile, revision: Number(revision), updatedAt } : undefined;
  }

  /**
   * The profile for a prompt: none for a request without a user, or when the user has none. Never
   * throws for an id no profile can have been stored under: the answer goes on without a profile.
   */
  async forPrompt(tenantId: string, userId: string | undefined): Promise<UserProfile | undefined> {
    if (userId === undefined || !isValidId(userId) || !isValidId(tenantId)) return undefined;
    return (await this.get(tenantId, userId))?.profile;
  }

  /** Creates or replaces the profile; throws {@link InvalidProfileError} for one the schema refuses. */
  async put(tenantId: string, userId: string, profile: unknown): Promise<StoredProfile> {
    assertIds(tenantId, userId);
    const written = await this.write(tenantId, userId, parseProfile(profile), '');
    // Unconditional ('' expects no revision): the script never refuses it.
    if (!written) throw new Error(`profile of ${userId}: an unconditional write was refused`);
    return written;
  }

  /**
   * Applies a merge patch (see {@link profilePatch}) to the profile, or to an empty one when the
   * user has none yet. Read, merge, and write only if no other write came in between (else again).
   */
  async patch(tenantId: string, userId: string, patch: unknown): Promise<StoredProfile> {
    assertIds(tenantId, userId);
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      const [json, revision] = await this.redis.hmget(this.key(tenantId, userId), 'profile', 'revision');
      const merged = mergeProfile(deserialiseProfile(json) ?? {}, patch);
      const written = await this.write(tenantId, userId, merged, revision ?? '0');
      if (written) return written;
      // Jittered, so the writers that lost do not collide again in the same instant.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
    }
    throw new Error(`profile of ${userId}: ${PATCH_ATTEMPTS} concurrent writes in a row, patch not applied`);
  }

  /** Deletes the profile: its revision then, or undefined when there was none. */
  async delete(tenantId: string, userId: string): Promise<{ revision: number; deletedAt: string } | undefined> {
    assertIds(tenantId, userId);
    const deletedAt = this.now();
    const revision = Number(await this.redis.eval(DELETE_LUA, 1, this.key(tenantId, userId), this.options.deletedRevisionTtlMs ?? 30 * 24 * 3_600_000));
    return revision > 0 ? { revision, deletedAt } : undefined;
  }

  /** Undefined when `expected` is no longer the stored revision. */
  private async write(tenantId: string, userId: string, profile: UserProfile, expected: string): Promise<StoredProfile | undefined> {
    const updatedAt = this.now();
    const revision = Number(await this.redis.eval(WRITE_LUA, 1, this.key(tenantId, userId), expected, serialiseProfile(profile), updatedAt));
    return revision < 0 ? undefined : { profile, revision, updatedAt };
  }
}
