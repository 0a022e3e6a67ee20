import { quietHoursSchema } from '@aip/contracts';
import { z } from 'zod';
import { proactiveSettingsSchema } from '../state/user-state.store.ts';

/** `GET/PUT /v1/users/{userId}/proactive-settings`: what the user set, what applies, and the interests recorded. */
export const settingsViewSchema = z
  .object({
    userId: z.string(),
    settings: proactiveSettingsSchema,
    effective: z.object({ timezone: z.string(), optOut: z.boolean(), quietHours: quietHoursSchema.nullable(), dailyCap: z.number().int() }).meta({ description: "The user's settings over the intent catalogue's defaults." }),
    interests: z.array(z.string()).meta({ description: "Interests recorded from the user's conversations, newest first." }),
  })
  .meta({ id: 'ProactiveSettingsView' });
export type SettingsView = z.infer<typeof settingsViewSchema>;
