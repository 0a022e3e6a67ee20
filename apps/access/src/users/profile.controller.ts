import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Put, Req, UseGuards } from '@nestjs/common';
import { idProblem } from '@aip/contracts';
import { EventPublisher, PublishError } from '@aip/messaging';
import { ApiError, ApiKeyOrUserTokenGuard, type AuthenticatedRequest } from '@aip/runtime';
import { InvalidProfileError, ProfileStore, type StoredProfile } from '@aip/tasks';
import { errors } from '../common/errors.ts';
import type { ProfileView } from './profile-view.schema.ts';

function view(userId: string, stored: StoredProfile): ProfileView {
  return { object: 'user.profile', userId, profile: stored.profile, revision: stored.revision, updatedAt: stored.updatedAt };
}

/**
 * End-user profiles (`/v1/users/{userId}/profile`): what inference tells the model about a user
 * (name, answer language, time zone, interests, preferences). Scoped by the API key's tenant: a
 * user id names a user of that tenant, so another tenant's user of the same id is simply not
 * there (404). An end user's realtime token reads and edits only its own user's profile (another
 * user's is a 404). Every change publishes `user.profile.updated` or `user.profile.deleted`.
 */
@Controller('v1/users/:userId/profile')
@UseGuards(ApiKeyOrUserTokenGuard)
export class ProfileController {
  constructor(
    @Inject(ProfileStore) private readonly profiles: ProfileStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
  ) {}

  @Get()
  async get(@Req() request: AuthenticatedRequest, @Param('userId') userId: string) {
    const stored = await this.profiles.get(request.apiKey.tenantId, userInPath(request, userId));
    if (!stored) throw errors.profileNotFound();
    return view(userId, stored);
  }

  /** Creates or replaces the whole profile: fields not sent are gone. */
  @Put()
  async put(@Req() request: AuthenticatedRequest, @Param('userId') userId: string, @Body() body: unknown) {
    const stored = await refusing(() => this.profiles.put(request.apiKey.tenantId, userInPath(request, userId), body));
    await this.published(() => this.publisher.publish('user.profile.updated', { userId, ...stored }, { tenantId: request.apiKey.tenantId }));
    return view(userId, stored);
  }

  /** A merge patch: fields sent replace, `null` removes, `preferences` merge by name. Creates the profile when there is none. */
  @Patch()
  async patch(@Req() request: AuthenticatedRequest, @Param('userId') userId: string, @Body() body: unknown) {
    const stored = await refusing(() => this.profiles.patch(request.apiKey.tenantId, userInPath(request, userId), body));
    await this.published(() => this.publisher.publish('user.profile.updated', { userId, ...stored }, { tenantId: request.apiKey.tenantId }));
    return view(userId, stored);
  }

  @Delete()
  @HttpCode(204)
  async delete(@Req() request: AuthenticatedRequest, @Param('userId') userId: string): Promise<void> {
    const deleted = await this.profiles.delete(request.apiKey.tenantId, userInPath(request, userId));
    if (!deleted) throw errors.profileNotFound();
    await this.published(() => this.publisher.publish('user.profile.deleted', { userId, ...deleted }, { tenantId: request.apiKey.tenantId }));
  }

  /**
   * The change is stored before it is published: a broker that cannot take the event is a 503,
   * and the client's retry (PUT and PATCH are idempotent) stores it again and publishes it.
   */
  private async published(publish: () => Promise<unknown>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      if (error instanceof PublishError && error.retryable) throw errors.unavailable('The message broker');
      throw error;
    }
  }
}

/**
 * The user id of the path, by the platform's one id rule (400 naming `userId` otherwise), when the
 * request may act for that user: an end user's realtime token only for its own (another user is a
 * 404: their data is not there for this caller).
 */
export function userInPath(request: AuthenticatedRequest, userId: string): string {
  const problem = idProblem(userId);
  if (problem) throw errors.invalid(`userId ${problem}`, 'userId', 'invalid_user_id');
  if (request.endUser !== undefined && request.endUser !== userId) throw new ApiError(404, 'No such user for this token.', 'not_found_error', 'user_not_found');
  return userId;
}

async function refusing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof InvalidProfileError) throw errors.invalid(error.message, error.param, 'invalid_profile');
    throw error;
  }
}
