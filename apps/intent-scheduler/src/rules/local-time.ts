import type { QuietHours } from '@aip/contracts';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The user's wall clock at `at`: local date (YYYY-MM-DD) and minutes since local midnight. */
export function localTime(at: number, timeZone: string): { day: string; minutes: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((part) => [part.type, part.value]));
  return { day: `${parts['year']}-${parts['month']}-${parts['day']}`, minutes: Number(parts['hour']) * 60 + Number(parts['minute']) };
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Whether a local time of day falls in the window; `start` after `end` wraps midnight; equal = no window. */
export function inQuietHours(minutes: number, quiet: QuietHours | null | undefined): boolean {
  if (!quiet) return false;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

/** The user's time zone: their proactive settings', else their profile's (access's `/v1/users/{id}/profile`); undefined when neither says. */
export const userTimeZone = (settings: { timezone?: string } | undefined, profileZone: string | undefined): string | undefined => settings?.timezone ?? profileZone;

/** Where the time zone of a user's profile comes from (the profiles access writes; nothing in tests). */
export type ProfileTimeZone = (tenantId: string, userId: string) => Promise<string | undefined>;
export const PROFILE_TIME_ZONE = Symbol('PROFILE_TIME_ZONE');

/**
 * The quiet hours that apply to a user: their own (null = none), else the catalogue's default —
 * but only when we know their time zone (`zone`, from `userTimeZone`). The default is a local
 * night; without the user's time zone we cannot tell when that is, and a night in UTC is the
 * middle of the day for much of the world.
 */
export function effectiveQuietHours(settings: { quietHours?: QuietHours | null } | undefined, fallback: QuietHours | null, zone: string | undefined): QuietHours | null {
  if (settings?.quietHours !== undefined) return settings.quietHours;
  return zone ? fallback : null;
}
