import { createHash, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import type { ApiKeyRecord } from '@aip/keys';
import { estimateTokens } from '@aip/llm';
import { EventPublisher, PublishError } from '@aip/messaging';
import { ApiError, ENV, REDIS } from '@aip/runtime';
import { TaskStore, type Task } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { AccessEnv } from '../access.config.ts';
import { errors } from '../common/errors.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { ModelCatalog } from '../models/model-catalog.ts';
import { chatRequestSchema, type ChatRequest } from './chat-request.schema.ts';

/**
 * Validates a chat request, creates its task (`queued`) and publishes `ai.request.submitted`.
 * Shared by the OpenAI-compatible endpoint and the async task API.
 */
@Injectable()
export class SubmissionService {
  private readonly schema: ReturnType<typeof chatRequestSchema>;

  constructor(
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(Moderation) private readonly moderation: Moderation,
    @Inject(ModelCatalog) private readonly models: ModelCatalog,
  ) {
    this.schema = chatRequestSchema(env.MAX_MESSAGES);
  }

  parse(body: unknown): ChatRequest {
    if (typeof body !== 'object' || body === null) throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', 'invalid_body');
    const parsed = this.schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ApiError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'invalid_request_error', 'invalid_value', issue.path.join('.') || null);
    }
    return parsed.data;
  }

  async submit(key: ApiKeyRecord, request: ChatRequest, idempotencyKey?: string): Promise<Task> {
    if (!this.models.aliases.includes(request.model)) throw errors.modelNotFound(request.model);
    if (key.models?.length && !key.models.includes(request.model)) throw errors.modelNotAllowed(request.model);
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256)) throw new BadRequestException('Idempotency-Key must be 1-256 characters');

    const { filter, input } = this.moderation;
    if (input === 'block' && request.messages.some((m) => filter.matches(m.content))) {
      throw new ApiError(400, 'The request contains words that are not allowed.', 'invalid_request_error', 'content_policy_violation', 'messages');
    }
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const taskId = randomUUID();
    if (idempotencyKey) {
      // Same key + same body → the same task; same key + another body → a clear error.
      const slot = `${this.env.REDIS_PREFIX}idem:access:{${key.tenantId}}:${idempotencyKey}`;
      const claimed = await this.redis.set(slot, `${taskId} ${fingerprint}`, 'PX', 24 * 3_600_000, 'NX');
      if (claimed !== 'OK') {
        const [existingId, existingFingerprint] = ((await this.redis.get(slot)) ?? '').split(' ');
        if (existingFingerprint !== fingerprint) throw new ApiError(409, 'This Idempotency-Key was used with a different request body.', 'invalid_request_error', 'idempotency_key_reused');
        const existing = existingId ? await this.tasks.getForTenant(existingId, key.tenantId) : undefined;
        if (existing) return existing;
      }
    }

    const task = await this.tasks.create({ id: taskId, tenantId: key.tenantId, keyId: key.id, model: request.model, stream: request.stream, ...(request.session_id ? { sessionId: request.session_id } : {}) });
    const messages = request.messages.map((m) => ({ role: m.role, content: filter.mask(m.content), ...(m.name ? { name: m.name } : {}) }));
    try {
      await this.publisher.publish(
        'ai.request.submitted',
        {
          taskId,
          apiKeyId: key.id,
          ...(key.subAccount ? { subAccount: key.subAccount } : {}),
          ...(request.session_id ? { sessionId: request.session_id } : {}),
          ...(request.user ? { userId: request.user } : {}),
          model: request.model,
          messages,
          maxTokens: request.max_completion_tokens ?? request.max_tokens ?? this.env.DEFAULT_MAX_TOKENS,
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          stream: request.stream,
          priority: request.priority ?? 5,
          deadline: new Date(Date.now() + this.env.ADMISSION_DEADLINE_MS).toISOString(),
          estimatedPromptTokens: estimateTokens(messages),
          ...(request.knowledge_bases ? { knowledgeBases: request.knowledge_bases } : {}),
          // The key's profile tags travel with the request; workers merge the user's own profile over them.
          ...(key.profile && Object.keys(key.profile).length > 0 ? { metadata: key.profile } : {}),
        },
        { tenantId: key.tenantId },
      );
    } catch (error) {
      await this.tasks.finish(taskId, 'failed', { error: { code: 'broker_unavailable', message: 'could not submit the request' } }, { type: 'error', code: 'broker_unavailable', message: 'could not submit the request', status: 503 }).catch(() => undefined);
      if (error instanceof PublishError && error.retryable) throw errors.unavailable('The message broker');
      throw error;
    }
    return task;
  }
}
