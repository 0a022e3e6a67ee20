import type { Redis } from 'ioredis';

export type ScriptArg = string | number;
export type ScriptCall = (...keysThenArgs: ScriptArg[]) => Promise<unknown>;

/**
 * Lua prelude shared by every script: the caller may inject the time (tests, replays); otherwise
 * the Redis server clock is used, so replicas with skewed clocks still agree on windows.
 */
export const CLOCK_LUA = `
local function clock(arg)
  local injected = tonumber(arg)
  if injected then return injected end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%d', n) end
`;

/**
 * Registers `lua` on this connection with ioredis `defineCommand` (EVALSHA, falling back to EVAL
 * after a NOSCRIPT, e.g. after a Redis restart) and returns a typed caller for it.
 */
export function defineScript(redis: Redis, name: string, numberOfKeys: number, lua: string): ScriptCall {
  redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, unknown>)[name];
  if (typeof command !== 'function') throw new Error(`ioredis did not define the script command ${name}`);
  return (...keysThenArgs) => (command as ScriptCall).apply(redis, keysThenArgs);
}

/** The server clock in ms, for steps that need "now" outside a script. */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

export function replyArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected Redis reply for ${what}: ${String(reply)}`);
  return reply as unknown[];
}

export function replyNumber(reply: unknown, what: string): number {
  const value = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN;
  if (!Number.isFinite(value)) throw new Error(`unexpected Redis reply for ${what}: ${String(reply)}`);
  return value;
}

export function replyString(reply: unknown, what: string): string {
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number') return String(reply);
  throw new Error(`unexpected Redis reply for ${what}: ${String(reply)}`);
}

/**
 * Ids end up inside Redis key names and script-built strings: braces would change the Cluster
 * hash tag, NUL is the field separator of the deadline queue.
 */
export function assertId(kind: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || /[{}\0]/.test(value)) {
    throw new TypeError(`${kind} must be 1-256 characters without '{', '}' or NUL, got ${JSON.stringify(value)}`);
  }
}

export function assertTime(kind: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new RangeError(`${kind} must be a non-negative integer of ms, got ${value}`);
}
