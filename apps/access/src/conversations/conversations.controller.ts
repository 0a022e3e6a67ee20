import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { EventPublisher, PublishError } from '@aip/messaging';
import { ApiError, ApiKeyOrUserTokenGuard, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { ConversationStore, TaskStore, type Conversation } from '@aip/tasks';
import { actingFor, mayAccess, userOfOwner, type Acting } from '../common/acting-user.ts';
import { errors } from '../common/errors.ts';
import { ResponseStore } from '../responses/response.store.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import {
  conversationCreateSchema,
  conversationItemOf,
  conversationObject,
  conversationsQuerySchema,
  conversationUpdateSchema,
  itemProblem,
  itemsCreateSchema,
  itemsQuerySchema,
  listOf,
} from './conversation.schema.ts';
import type { InputItem } from '../responses/response-request.schema.ts';

export const conversationNotFound = (id: string, param = 'conversation_id') => new ApiError(404, `Conversation with id '${id}' not found.`, 'invalid_request_error', 'conversation_not_found', param);
const itemNotFound = (id: string) => new ApiError(404, `Item with id '${id}' not found.`, 'invalid_request_error', 'item_not_found', 'item_id');

/**
 * OpenAI's Conversations API (ADR 0029), on the store chat completions' `session_id`, the Responses
 * API's `conversation` and the realtime socket share: one conversation, seen the same way by all.
 * A conversation is its owner's: the end user a request acts for (a realtime token's, or the one an
 * API key names with `X-User-Id`), or the key itself when it names nobody. Anyone else gets a 404,
 * as for a conversation that does not exist.
 */
@Controller('v1/conversations')
@UseGuards(ApiKeyOrUserTokenGuard)
export class ConversationsController {
  constructor(
    @Inject(ConversationStore) private readonly conversations: ConversationStore,
    @Inject(ResponseStore) private readonly responses: ResponseStore,
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(Moderation) private readonly moderation: Moderation,
  ) {}

  @Post()
  @HttpCode(200)
  async create(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    const input = parseRequest(conversationCreateSchema, body ?? {});
    const acting = actingFor(request);
    const { conversation } = await this.conversations.create(acting.tenantId, acting.owner, { metadata: input.metadata ?? {}, items: this.kept(input.items ?? []) });
    return conversationObject(conversation);
  }

  /** The caller's conversations, most recently changed first (the platform's; OpenAI has no list). */
  @Get()
  async list(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const page = parseRequest(conversationsQuerySchema, query);
    const acting = actingFor(request);
    const found = await this.conversations.list(acting.tenantId, acting.owner, page);
    return listOf(found.data.map(conversationObject), found.hasMore);
  }

  @Get(':id')
  async retrieve(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    return conversationObject(await this.owned(request, id));
  }

  /** Replaces the metadata (OpenAI's update). */
  @Post(':id')
  @HttpCode(200)
  async update(@Req() request: AuthenticatedRequest, @Param('id') id: string, @Body() body: unknown) {
    const { metadata } = parseRequest(conversationUpdateSchema, body);
    const acting = actingFor(request);
    await this.owned(request, id, acting);
    if (!(await this.conversations.setMetadata(acting.tenantId, id, metadata))) throw conversationNotFound(id);
    return conversationObject(await this.owned(request, id, acting));
  }

  /**
   * Deletes the conversation, its items, and the tasks and responses made in it, and publishes
   * `conversation.deleted` (the intent-scheduler drops its proactive state). The event goes first:
   * a broker that cannot take it is a 503 with nothing deleted, and the retry does both.
   */
  @Delete(':id')
  async delete(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    const acting = actingFor(request);
    const conversation = await this.owned(request, id, acting);
    const userId = userOfOwner(conversation.owner);
    try {
      await this.publisher.publish('conversation.deleted', { conversationId: id, ...(userId ? { userId } : {}), deletedAt: new Date().toISOString() }, { tenantId: acting.tenantId });
    } catch (error) {
      if (error instanceof PublishError && error.retryable) throw errors.unavailable('The message broker');
      throw error;
    }
    const deleted = await this.conversations.delete(acting.tenantId, id);
    await Promise.all(
      (deleted?.linked ?? []).map(async (ref) => {
        const [kind, linkedId] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
        if (kind === 'response') await this.responses.delete(acting.tenantId, linkedId);
        // Only the tenant's own task: a link is written by access, but erasing is checked anyway.
        else if (kind === 'task' && (await this.tasks.getForTenant(linkedId, acting.tenantId))) await this.tasks.erase(linkedId);
      }),
    );
    return { id, object: 'conversation.deleted', deleted: true };
  }

  @Get(':id/items')
  async items(@Req() request: AuthenticatedRequest, @Param('id') id: string, @Query() query: unknown) {
    const page = parseRequest(itemsQuerySchema, query);
    const acting = actingFor(request);
    await this.owned(request, id, acting);
    const found = await this.conversations.items(acting.tenantId, id, page);
    if (!found) throw conversationNotFound(id);
    return listOf(found.data, found.hasMore);
  }

  @Post(':id/items')
  @HttpCode(200)
  async addItems(@Req() request: AuthenticatedRequest, @Param('id') id: string, @Body() body: unknown) {
    const input = parseRequest(itemsCreateSchema, body);
    const acting = actingFor(request);
    await this.owned(request, id, acting);
    const added = await this.conversations.append(acting.tenantId, id, this.kept(input.items));
    if (!added) throw conversationNotFound(id);
    return listOf(added, false);
  }

  @Get(':id/items/:itemId')
  async item(@Req() request: AuthenticatedRequest, @Param('id') id: string, @Param('itemId') itemId: string) {
    const acting = actingFor(request);
    await this.owned(request, id, acting);
    const item = await this.conversations.item(acting.tenantId, id, itemId);
    if (!item) throw itemNotFound(itemId);
    return item;
  }

  /** Deletes one item; answers the conversation, as OpenAI does. */
  @Delete(':id/items/:itemId')
  async deleteItem(@Req() request: AuthenticatedRequest, @Param('id') id: string, @Param('itemId') itemId: string) {
    const acting = actingFor(request);
    await this.owned(request, id, acting);
    if (!(await this.conversations.deleteItem(acting.tenantId, id, itemId))) throw itemNotFound(itemId);
    return conversationObject(await this.owned(request, id, acting));
  }

  private async owned(request: AuthenticatedRequest, id: string, acting: Acting = actingFor(request)): Promise<Conversation> {
    const conversation = await this.conversations.get(acting.tenantId, id);
    if (!conversation || !mayAccess(request, acting, conversation.owner)) throw conversationNotFound(id);
    return conversation;
  }

  /**
   * Items as kept: screened like any request (a word on the list under `block` is refused; under
   * `mask` it is stored masked, since it will reach a prompt), images only by https URL.
   */
  private kept(items: InputItem[]) {
    const { filter, input } = this.moderation;
    return items.map((item, index) => {
      const problem = itemProblem(item);
      if (problem) throw errors.invalid(problem, `items.${index}`, 'unsupported_item');
      const kept = conversationItemOf(item);
      if (filter.size === 0) return kept;
      if (input === 'block' && filter.matchesIn(kept)) throw errors.contentPolicy(`items.${index}`);
      return filter.maskStrings(kept);
    });
  }
}
