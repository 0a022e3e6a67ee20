import { errorResponses, json, jsonBody, platformOpenApiDocument, security } from '@aip/runtime';
import { z } from 'zod';
import { settingsViewSchema } from './settings/settings-view.schema.ts';
import { proactiveSettingsSchema } from './state/user-state.store.ts';

const userId = z.object({ userId: z.string().meta({ description: "An end user of the key's tenant (1-128 characters without spaces)." }) });
const errors = { 400: 'Invalid user id or settings (every problem in the message).', 401: 'No API key, or an unknown or revoked one.' };

/** intent-scheduler's OpenAPI document: the proactive settings of end users. */
export function appOpenApi(): Record<string, unknown> {
  return platformOpenApiDocument({
    title: 'intent-scheduler',
    description: "Proactive prompts: each end user's time zone, opt-out and quiet hours, as the scheduler applies them.",
    paths: {
      '/v1/users/{userId}/proactive-settings': {
        get: { tags: ['proactive settings'], summary: "Get a user's proactive settings, the values in effect and their interests", security: security.apiKey, requestParams: { path: userId }, responses: { '200': json('The settings.', settingsViewSchema), ...errorResponses(errors) } },
        put: {
          tags: ['proactive settings'],
          summary: "Replace a user's proactive settings",
          security: security.apiKey,
          requestParams: { path: userId },
          requestBody: jsonBody(proactiveSettingsSchema.meta({ id: 'ProactiveSettings' })),
          responses: { '200': json('The settings as stored and in effect.', settingsViewSchema), ...errorResponses(errors) },
        },
      },
    },
  });
}
