import { createHash, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, Optional } from '@nestjs/common';
import type { EventData, schemas } from '@aip/contracts';
import type { ApiKeyRecord } from '@aip/keys';
import { estimateTokens, estimateToolDefinitionTokens } from '@aip/llm';
import { EventPublisher, PublishError } from '@aip/messaging';
import { AdmissionFastPath } from '@aip/rate-limit';
import { ApiError, appMetrics, ENV, REDIS, ROUTING_WATCH, type AuthenticatedRequest, type DocumentWatch } from '@aip/runtime';
import { ClaimCheck, ConversationStore, TaskStore, type Task } from '@aip/tasks';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { AccessEnv } from '../access.config.ts';
import { actingFor } from '../common/acting-user.ts';
import { errors } from '../common/errors.ts';
import { Moderation } from '../moderation/moderation.service.ts';
import { ModelCatalog } from '@aip/chat-policy';
import { chatRequestSchema, forwardedFields, MAX_NESTING, nestedDeeperThan, type ChatRequest, type ContentPart } from './chat-request.schema.ts';
import { imageOf, imageProblem, inlineImageChars, type ImageLimits } from './image-parts.ts';
import { unhonouredField } from './unhonoured-fields.ts';

/**
 * Validates a chat request, creates its task (`queued`), and admits it at once (`ai.request.admitted`)
 * or hands it to the rate-limiter (`ai.request.submitted`).
 * Shared by the OpenAI-compatible endpoint and the async task API.
 */
@Injectable()
export class SubmissionService {
  private readonly schema: ReturnType<typeof chatRequestSchema>;

  constructor(
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(ConversationStore) private readonly sessions: ConversationStore,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(ENV) private readonly env: AccessEnv,
    @Inject(Moderation) private readonly moderation: Moderation,
    @Inject(ModelCatalog) private readonly models: ModelCatalog,
    @Inject(AdmissionFastPath) private readonly fastPath: AdmissionFastPath,
    @Inject(ROUTING_WATCH) private readonly routing: Pick<DocumentWatch, 'catchUp'>,
    // Inline images are stored here and travel as references (ADR 0028); without it they are refused.
    @Optional() @Inject(ClaimCheck) private readonly claims?: ClaimCheck,
  ) {
    this.schema = chatRequestSchema(env.MAX_MESSAGES);
    this.images = { maxImages: env.MAX_IMAGES, maxImageBytes: env.MAX_IMAGE_BYTES };
  }

  private readonly images: ImageLimits;

  parse(body: unknown): ChatRequest {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', 'invalid_body');
    if (nestedDeeperThan(body, MAX_NESTING)) throw new ApiError(400, `The request nests objects or arrays deeper than ${MAX_NESTING} levels.`, 'invalid_request_error', 'invalid_body');
    const unhonoured = unhonouredField(body as Record<string, unknown>);
    if (unhonoured) throw new ApiError(400, unhonoured.message, 'invalid_request_error', unhonoured.code, unhonoured.param);
    const image = imageProblem(body as Record<string, unknown>, this.images);
    if (image) throw new ApiError(image.status, image.message, 'invalid_request_error', image.code, image.param);
    // The body limit makes room for inline images; the rest of the request travels on the broker.
    const text = Buffer.byteLength(JSON.stringify(body)) - inlineImageChars(body as Record<string, unknown>);
    if (text > this.env.MAX_TEXT_BODY_BYTES) throw new ApiError(413, `The request is ${text} bytes without its inline images; at most ${this.env.MAX_TEXT_BODY_BYTES}.`, 'invalid_request_error', 'request_too_large');
    const parsed = this.schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ApiError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'invalid_request_error', 'invalid_value', issue.path.join('.') || null);
    }
    return parsed.data;
  }

  /**
   * `parse`, with the end user the request acts for (ADR 0029): the body's `user`, or the
   * `X-User-Id` header of a backend acting for its users (both: they must agree), so a chat's
   * `session_id` is the same user's conversation as the Conversations API's.
   */
  parseFor(request: AuthenticatedRequest, body: unknown): ChatRequest {
    const chat = this.parse(body);
    const { user } = actingFor(request, chat.user);
    return user === undefined ? chat : { ...chat, user };
  }

  /** `choice`: which of a request's `n` answers this task is (each its own task; ChatController). */
  async submit(key: ApiKeyRecord, request: ChatRequest, idempotencyKey?: string, choice = 0): Promise<Task> {
    const acceptedAt = Date.now();
    // An alias added a moment ago (on another replica's admin API) is served now, not after this
    // replica's next periodic check: the newest routing is read before answering 404.
    if (!this.models.aliases.includes(request.model)) await this.routing.catchUp();
    if (!this.models.aliases.includes(request.model)) throw errors.modelNotFound(request.model);
    if (key.models?.length && !key.models.includes(request.model)) throw errors.modelNotAllowed(request.model);
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256)) throw new BadRequestException('Idempotency-Key must be 1-256 characters');

    const { filter, input } = this.moderation;
    // Answers pass through the word list, and a token's log probability names the token: a masked
    // word would be spelled out beside its asterisks. Refused rather than leaked or dropped.
    if (request.logprobs && filter.size > 0) {
      throw errors.invalid('logprobs are not available on this platform while it masks words in answers (the tokens would show them); leave logprobs out.', 'logprobs', 'unsupported_parameter');
    }
    // Everything of the request that reaches the model is screened: the turns, the arguments of
    // earlier tool calls, and the forwarded fields (tool descriptions, schemas).
    const forwarded = forwardOf(request);
    if (input === 'block') {
      const blocked = request.messages.some((m) => filter.matches(m.content) || m.tool_calls?.some((call) => filter.matches(call.function.arguments)));
      if (blocked || filter.matchesIn(forwarded)) {
        throw errors.contentPolicy(blocked ? 'messages' : null);
      }
    }
    const taskId = randomUUID();
    // A session's history reaches the model: only the end user (or, without one, the key) that
    // started it may continue it. The task holds the conversation's words too: linked in the same
    // step, so deleting the conversation erases it.
    if (request.session_id && !(await this.sessions.claim(key.tenantId, request.session_id, request.user ? `user:${request.user}` : `key:${key.id}`, { link: `task:${taskId}` }))) {
      throw errors.sessionNotOwned();
    }
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const slot = idempotencyKey ? `${this.env.REDIS_PREFIX}idem:access:{${key.tenantId}}:${idempotencyKey}${choice > 0 ? `#${choice}` : ''}` : undefined;
    if (slot) {
      const existing = await this.claimIdempotencyKey(slot, key.tenantId, `${taskId} ${fingerprint}`);
      if (existing) return existing;
    }

    let parts: (schemas.ContentPart[] | undefined)[];
    try {
      parts = await this.claimCheck(key.tenantId, taskId, request);
    } catch (error) {
      // Not accepted: the key must not keep pointing at a task that never was.
      if (slot) await this.redis.eval(RELEASE_IF_OURS, 1, slot, `${taskId} ${fingerprint}`).catch(() => undefined);
      throw error;
    }
    // The task is written while admission reads the limiter's state (one round trip for both);
    // nothing is published before it exists.
    const created = this.tasks.create({ id: taskId, tenantId: key.tenantId, keyId: key.id, model: request.model, stream: request.stream, ...(request.session_id ? { sessionId: request.session_id } : {}) });
    created.catch(() => undefined); // awaited below, on every path
    const messages = request.messages.map((m, index) => ({
      role: m.role,
      content: filter.mask(m.content),
      ...(parts[index] ? { parts: parts[index] } : {}),
      ...(m.name ? { name: m.name } : {}),
      ...(m.tool_calls?.length ? { toolCalls: m.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: filter.maskJson(call.function.arguments) })) } : {}),
      ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}),
    }));
    const forward = forwarded && filter.maskStrings(forwarded);
    const submitted: EventData<'ai.request.submitted'> = {
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
      // Tool definitions and calls are prompt tokens too (the worker's estimate counts them alike).
      estimatedPromptTokens: estimateTokens(messages) + estimateToolDefinitionTokens(forward),
      ...(forward ? { forward } : {}),
      ...(request.knowledge_bases ? { knowledgeBases: request.knowledge_bases } : {}),
      // The key's profile tags travel with the request; workers merge the user's own profile over them.
      ...(key.profile && Object.keys(key.profile).length > 0 ? { metadata: key.profile } : {}),
    };
    try {
      // Admitted at once when the limits allow (one hop to the workers); else the limiter's to decide.
      const outcome = await this.fastPath.admit(key, submitted, acceptedAt, async (data, lane) => {
        await created;
        return this.publisher.publish('ai.request.admitted', data, { tenantId: key.tenantId, ...(lane !== undefined ? { lane } : {}) });
      });
      appMetrics.admissions.inc({ path: outcome.admitted ? 'direct' : 'handed_over', reason: outcome.reason });
      if (!outcome.admitted) {
        await created;
        await this.publisher.publish('ai.request.submitted', submitted, { tenantId: key.tenantId });
      }
    } catch (error) {
      // Not accepted: the key must not keep pointing at this failure.
      if (slot) await this.redis.eval(RELEASE_IF_OURS, 1, slot, `${taskId} ${fingerprint}`).catch(() => undefined);
      const exists = await created.then(() => true, () => false);
      if (exists) await this.tasks.finish(taskId, 'failed', { error: { code: 'broker_unavailable', message: 'could not submit the request' } }, { type: 'error', code: 'broker_unavailable', message: 'could not submit the request', status: 503 }).catch(() => undefined);
      if (error instanceof PublishError && error.retryable) throw errors.unavailable('The message broker');
      throw error;
    }
    return created;
  }

  /**
   * The parts of each message with images, as they travel: text masked like `content`, https URLs
   * as they are, inline images stored under the tenant and task (ADR 0028) so the broker message
   * carries a reference, never the bytes.
   */
  private async claimCheck(tenantId: string, taskId: string, request: ChatRequest): Promise<(schemas.ContentPart[] | undefined)[]> {
    let stored = 0;
    const part = async (given: ContentPart): Promise<schemas.ContentPart> => {
      if (given.type === 'text') return { type: 'text', text: this.moderation.filter.mask(given.text) };
      const { url, detail } = given.image_url;
      const image = imageOf(url, this.images);
      if ('url' in image) return { type: 'image', url: image.url, ...(detail ? { detail } : {}) };
      if (!this.claims) throw errors.unavailable('The image store');
      const ref = await this.claims.check(tenantId, taskId, stored++, image.inline);
      return { type: 'image', ref, ...(detail ? { detail } : {}) };
    };
    const out: (schemas.ContentPart[] | undefined)[] = [];
    // One image after another: a request holds a handful, and the store's writes need not race.
    for (const message of request.messages) {
      if (!message.parts) {
        out.push(undefined);
        continue;
      }
      const parts: schemas.ContentPart[] = [];
      for (const given of message.parts) parts.push(await part(given));
      out.push(parts);
    }
    return out;
  }

  /**
   * Stripe-style idempotency: the same key and body give the task the key points to, another body
   * a 409. A key whose task ended in a failure a retry may cure (rejected by the limiter, failed)
   * is taken over by this request, so a correct client retry is not answered with the old error
   * for a day. Returns the existing task to answer with, or undefined to go ahead.
   */
  private async claimIdempotencyKey(slot: string, tenantId: string, claim: string): Promise<Task | undefined> {
    const fingerprint = claim.split(' ')[1];
    for (let tries = 0; tries < 3; tries++) {
      if ((await this.redis.set(slot, claim, 'PX', IDEMPOTENCY_TTL_MS, 'NX')) === 'OK') return undefined;
      const current = await this.redis.get(slot);
      if (current === null) continue; // expired or released meanwhile: claim it
      const [existingId, existingFingerprint] = current.split(' ');
      if (existingFingerprint !== fingerprint) throw new ApiError(409, 'This Idempotency-Key was used with a different request body.', 'invalid_request_error', 'idempotency_key_reused');
      const existing = existingId ? await this.tasks.getForTenant(existingId, tenantId) : undefined;
      if (!existing) break; // claimed a moment ago, its task not written yet
      if (!RETRYABLE_ENDS.includes(existing.status)) return existing;
      // Its task failed in a way a retry may cure: this request takes the key over, unless a
      // concurrent retry just did (then the loop answers with that one's task).
      if (Number(await this.redis.eval(REPLACE_IF, 1, slot, current, claim, IDEMPOTENCY_TTL_MS)) === 1) return undefined;
    }
    throw new ApiError(409, 'This Idempotency-Key is being used by concurrent requests; retry shortly.', 'invalid_request_error', 'idempotency_key_in_use');
  }
}

const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** Task ends that release an Idempotency-Key: the limiter refused it (429) or it failed (5xx, 502). */
const RETRYABLE_ENDS: readonly Task['status'][] = ['rejected', 'failed'];
const REPLACE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const RELEASE_IF_OURS = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The request's OpenAI fields that travel to the model as they are (absent and null left out). */
function forwardOf(request: ChatRequest): Record<string, z.core.util.JSONType> | undefined {
  const forward = Object.fromEntries(Object.keys(forwardedFields).flatMap((field) => {
    const value = request[field as keyof typeof forwardedFields];
    return value === undefined || value === null ? [] : [[field, value]];
  }));
  return Object.keys(forward).length > 0 ? forward : undefined;
}
