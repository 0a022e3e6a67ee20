import { Controller, Get, Inject, Param, Req, UseGuards } from '@nestjs/common';
import { ApiKeyOrUserTokenGuard, type AuthenticatedRequest } from '@aip/runtime';
import { ConversationStore, ProfileStore } from '@aip/tasks';
import { actingFor } from '../common/acting-user.ts';
import { conversationObject } from '../conversations/conversation.schema.ts';
import { userInPath } from './profile.controller.ts';

/** Conversations listed per page while exporting. */
const PAGE = 100;

/**
 * `GET /v1/users/{userId}/export`: everything the platform keeps of an end user, as one JSON
 * document (their right of access): the profile, and every conversation of theirs with all its items,
 * oldest first. The user themself (realtime token) or the tenant's backend (API key) may ask.
 */
@Controller('v1/users/:userId/export')
@UseGuards(ApiKeyOrUserTokenGuard)
export class UserExportController {
  constructor(
    @Inject(ConversationStore) private readonly conversations: ConversationStore,
    @Inject(ProfileStore) private readonly profiles: ProfileStore,
  ) {}

  @Get()
  async export(@Req() request: AuthenticatedRequest, @Param('userId') userId: string) {
    const acting = actingFor(request, userInPath(request, userId));
    const profile = await this.profiles.get(acting.tenantId, userId);
    const conversations = [];
    for (let after: string | undefined, more = true; more; ) {
      const page = await this.conversations.list(acting.tenantId, acting.owner, { limit: PAGE, ...(after ? { after } : {}) });
      for (const conversation of page.data) {
        // Every item, oldest first: a conversation holds a bounded number (ConversationStore's maxItems).
        conversations.push({ ...conversationObject(conversation), items: await this.conversations.latest(acting.tenantId, conversation.id, Number.MAX_SAFE_INTEGER) });
      }
      [after, more] = [page.data.at(-1)?.id, page.hasMore];
    }
    return { object: 'user.export', user_id: userId, exported_at: new Date().toISOString(), profile: profile ? { ...profile.profile } : null, conversations };
  }
}
