import { userProfile } from '@aip/contracts';
import { z } from 'zod';

/** The profile as stored: language tag and time zone in their canonical forms (what the request's were turned into). */
const storedProfile = userProfile.extend({ language: z.string().optional(), timeZone: z.string().optional() });

/** A user's profile as `/v1/users/{userId}/profile` shows it. */
export const profileViewSchema = z
  .object({ object: z.literal('user.profile'), userId: z.string(), profile: storedProfile, revision: z.number().int(), updatedAt: z.string() })
  .meta({ id: 'UserProfile' });
export type ProfileView = z.infer<typeof profileViewSchema>;
