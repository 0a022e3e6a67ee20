import { Body, Controller, Get, Inject, Param, Put, Req, UseGuards } from '@nestjs/common';
import { CatalogueHolder } from '../catalogue/catalogue.holder.ts';
import { effectiveQuietHours, PROFILE_TIME_ZONE, userTimeZone, type ProfileTimeZone } from '../rules/local-time.ts';
import { ApiError, ApiKeyGuard, ENV, type AuthenticatedRequest } from '@aip/runtime';
import type { IntentSchedulerEnv } from '../intent-scheduler.config.ts';
import { proactiveSettingsSchema, UserStateStore, type ProactiveSettings } from '../state/user-state.store.ts';
import type { SettingsView } from './settings-view.schema.ts';

const USER_ID = /^[^\s]{1,128}$/u;

/**
 * `GET/PUT /v1/users/{userId}/proactive-settings`: time zone, opt-out and quiet hours of one user
 * of the key's tenant (a key never sees another tenant's users). GET also shows the effective
 * values and the interests recorded from the user's conversations.
 */
@Controller('v1/users/:userId/proactive-settings')
@UseGuards(ApiKeyGuard)
export class SettingsController {
  constructor(
    @Inject(UserStateStore) private readonly users: UserStateStore,
    @Inject(CatalogueHolder) private readonly catalogue: CatalogueHolder,
    @Inject(ENV) private readonly env: IntentSchedulerEnv,
    @Inject(PROFILE_TIME_ZONE) private readonly profileTimeZone: ProfileTimeZone,
  ) {}

  @Get()
  async get(@Param('userId') userId: string, @Req() request: AuthenticatedRequest) {
    const tenantId = this.tenant(userId, request);
    const settings = (await this.users.settings(tenantId, userId)) ?? { optOut: false };
    return this.view(tenantId, userId, settings);
  }

  @Put()
  async put(@Param('userId') userId: string, @Body() body: unknown, @Req() request: AuthenticatedRequest) {
    const tenantId = this.tenant(userId, request);
    const parsed = proactiveSettingsSchema.safeParse(body ?? {});
    if (!parsed.success) {
      // Every problem in the message (a settings form fixes them all at once); the first one as `param`.
      const details = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
      throw new ApiError(400, details, 'invalid_request_error', 'invalid_settings', parsed.error.issues[0]?.path.join('.') || null);
    }
    await this.users.putSettings(tenantId, userId, parsed.data);
    return this.view(tenantId, userId, parsed.data);
  }

  private tenant(userId: string, request: AuthenticatedRequest) {
    if (!USER_ID.test(userId)) throw new ApiError(400, 'userId: 1–128 characters without spaces', 'invalid_request_error', 'invalid_user_id', 'userId');
    return request.apiKey.tenantId;
  }

  private async view(tenantId: string, userId: string, settings: ProactiveSettings): Promise<SettingsView> {
    const { defaults } = this.catalogue.catalogue;
    // What the dispatcher applies: the settings' zone, else the profile's, else the catalogue's.
    const zone = userTimeZone(settings, await this.profileTimeZone(tenantId, userId));
    return {
      userId,
      settings,
      effective: {
        timezone: zone ?? defaults.timezone,
        optOut: settings.optOut,
        quietHours: effectiveQuietHours(settings, defaults.quietHours, zone),
        dailyCap: defaults.dailyCap,
      },
      interests: await this.users.interests(tenantId, userId, Date.now(), this.env.INTENT_INTEREST_TTL_MS),
    };
  }
}
