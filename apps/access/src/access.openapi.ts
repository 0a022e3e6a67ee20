import { userProfile } from '@aip/contracts';
import { apiKeyInputSchema, apiKeyRecordSchema, issuedApiKeySchema } from '@aip/keys';
import { errorResponses, json, jsonBody, platformOpenApiDocument, security } from '@aip/runtime';
import { profilePatch } from '@aip/tasks';
import { z } from 'zod';
import { accessEnvSchema, type AccessEnv } from './access.config.ts';
import { chatCompletionChunkSchema, chatCompletionSchema, modelListSchema } from './chat/chat-response.schema.ts';
import { chatRequestSchema } from './chat/chat-request.schema.ts';
import { embeddingsRequestSchema, embeddingsResponseSchema } from './embeddings/embeddings.endpoint.ts';
import { realtimeTokenRequestSchema, realtimeTokenSchema } from './realtime/realtime-token.schema.ts';
import { responseObjectSchema, responseRequestSchema, responseStreamEventSchema, retrieveQuerySchema } from './responses/response-request.schema.ts';
import { taskViewSchema } from './tasks/task-view.schema.ts';
import { profileViewSchema } from './users/profile-view.schema.ts';
import { feedbackInputSchema, feedbackViewSchema } from './usage/feedback.schema.ts';
import {
  conversationCreateSchema,
  conversationItemSchema,
  conversationListSchema,
  conversationObjectSchema,
  conversationsQuerySchema,
  conversationUpdateSchema,
  itemListSchema,
  itemsCreateSchema,
  itemsQuerySchema,
} from './conversations/conversation.schema.ts';

/** The limits the documented schemas carry; the checked-in document shows the defaults. */
type DocumentedLimits = Pick<AccessEnv, 'MAX_MESSAGES' | 'EMBEDDINGS_MAX_INPUTS'>;
const DEFAULT_LIMITS: DocumentedLimits = accessEnvSchema.pick({ MAX_MESSAGES: true, EMBEDDINGS_MAX_INPUTS: true }).parse({});

const idempotencyKey = z.object({ 'idempotency-key': z.string().min(1).max(256).optional().meta({ description: 'The same key and body answer with the same task for 24 h; another body is a 409.' }) });
const taskId = z.object({ id: z.string().meta({ description: 'The task id (`x-task-id` of a chat completion).' }) });
const userId = z.object({ userId: z.string().meta({ description: "An end user of the key's tenant." }) });
const keyId = z.object({ id: z.string() });
const responseId = z.object({ id: z.string().meta({ description: 'The response id (resp_…).' }) });
const documentName = z.object({ name: z.enum(['routing', 'words', 'policies', 'intents']).meta({ description: 'The run-time document.' }) });
const documentVersion = documentName.extend({ version: z.coerce.number().int().positive() });

/** Bodies differ per document (routing, words, policies, intents): each is validated on PUT by its own schema. */
const documentBody = z.record(z.string(), z.unknown()).meta({ id: 'ConfigDocumentBody', description: 'The document: model routing, sensitive words, rate-limit policies or the intent catalogue.' });
const configDocument = z.object({ version: z.number().int().nonnegative(), body: documentBody.nullable().meta({ description: 'null: no document stored, the start-up settings apply.' }) }).meta({ id: 'ConfigDocument' });
const configVersions = z.object({ data: z.array(z.object({ version: z.number().int().positive(), at: z.iso.datetime(), deleted: z.boolean() })).meta({ description: 'Newest first.' }) });
const configVersion = z.object({ version: z.number().int().positive(), at: z.iso.datetime(), body: documentBody.nullable() });

const issuedKey = issuedApiKeySchema.meta({ id: 'IssuedApiKey' });
const sse = (description: string) => ({ description, content: { 'text/event-stream': { schema: z.string() } } });
const authErrors = { 401: 'No API key, or an unknown or revoked one.' };
/** Routes an end user's browser may call with its realtime token (acting for that user only), or a key. */
const endUserSecurity: Record<string, string[]>[] = [{ apiKey: [] }, { realtimeToken: [] }];
const userAuthErrors = { 401: 'No API key or realtime token, or an unknown, expired or revoked one.' };
const actingUser = z.object({ 'x-user-id': z.string().optional().meta({ description: 'With an API key: the end user the request acts for (their conversations only). A realtime token always acts for its own user.' }) });
const conversationId = z.object({ id: z.string().meta({ description: 'The conversation id (conv_…, or a session_id a chat request chose).' }) });
const conversationItemId = conversationId.extend({ itemId: z.string().meta({ description: 'The item id (msg_…, fc_…, fco_…).' }) });
const conversationMissing = 'No such conversation of the user (or key) the request acts for.';
const adminErrors = { 401: 'No admin token, or a wrong one.' };
const usageLine = z
  .object({
    tenant: z.string().optional(), key: z.string().optional(), user: z.string().nullable().optional(), model: z.string().nullable().optional(), provider: z.string().nullable().optional(), status: z.string().optional(), day: z.string().optional(), hour: z.string().optional(),
    requests: z.number().int(), failed: z.number().int().meta({ description: 'Of the requests: not completed (failed, cancelled, rejected).' }),
    promptTokens: z.number().int(), completionTokens: z.number().int(), cachedTokens: z.number().int(),
    cost: z.number().meta({ description: 'US dollars, at the prices of the routing document when each request ended.' }),
    firstTokenMsP50: z.number().nullable(), durationMsP50: z.number().nullable(),
  })
  .strict()
  .meta({ id: 'UsageLine' });
const usageReport = z.object({ object: z.literal('usage_report'), from: z.iso.datetime(), to: z.iso.datetime(), group_by: z.array(z.string()), data: z.array(usageLine) }).strict().meta({ id: 'UsageReport' });
const usageWindow = {
  from: z.string().optional().meta({ description: 'ISO 8601; default: 7 days before `to`. At most 400 days.' }),
  to: z.string().optional().meta({ description: 'ISO 8601, exclusive; default: now.' }),
  model: z.string().optional(),
  provider: z.string().optional(),
  user: z.string().optional(),
};

/** access's OpenAPI document: the OpenAI-compatible API, the task API, realtime tokens, profiles and the admin API. */
export function appOpenApi(limits: DocumentedLimits = DEFAULT_LIMITS): Record<string, unknown> {
  const chatRequest = chatRequestSchema(limits.MAX_MESSAGES).meta({ id: 'ChatCompletionRequest' });
  const submissionErrors = errorResponses({
    400: 'Invalid request, a field the platform does not carry out, or words on the list (`content_policy_violation`).',
    ...authErrors,
    403: 'The key may not use this model, or the session belongs to another user.',
    404: 'No such model.',
    409: 'The Idempotency-Key was used with another body, or by a concurrent request.',
    429: 'Refused by the rate limits (Retry-After, x-ratelimit-*).',
    503: 'The broker or Redis is unavailable; retry.',
  });
  return platformOpenApiDocument({
    title: 'access',
    description:
      "The platform's front door: OpenAI's Chat Completions, Embeddings and Models APIs, the async task API, realtime tokens for browsers, OpenAI's Responses and Conversations APIs, end-user profiles and exports, and the admin API (API keys, run-time documents). With ADMIN_PORT set, `/admin/*` and `/metrics` answer on that port only.",
    securitySchemes: { realtimeToken: { type: 'http', scheme: 'bearer', description: "An end user's realtime token (POST /v1/realtime/tokens): acts for that user only." } },
    paths: {
      '/v1/chat/completions': {
        post: {
          tags: ['openai'],
          summary: 'Create a chat completion (JSON, or SSE with `stream: true`)',
          security: security.apiKey,
          requestParams: { header: idempotencyKey.extend(actingUser.shape) },
          requestBody: jsonBody(chatRequest),
          responses: {
            '200': {
              description: 'The answer: a chat completion, or with `stream: true` `data:` events of ChatCompletionChunk ending with `data: [DONE]`. Headers: x-request-id, x-task-id, x-ratelimit-*.',
              content: { 'application/json': { schema: chatCompletionSchema }, 'text/event-stream': { schema: chatCompletionChunkSchema } },
            },
            ...submissionErrors,
            ...errorResponses({ 502: 'Every model of the chain failed.', 504: 'The answer did not finish (start, when streamed) in time.' }),
          },
        },
      },
      '/v1/responses': {
        post: {
          tags: ['openai'],
          summary: "Create a response (OpenAI's Responses API; JSON, or SSE of semantic events with `stream: true`)",
          security: security.apiKey,
          requestParams: { header: actingUser },
          requestBody: jsonBody(responseRequestSchema.meta({ id: 'ResponseRequest' })),
          responses: {
            '200': {
              description: 'The response, or with `stream: true` its events (`event: <type>` / `data: ResponseStreamEvent`), ending with response.completed, response.incomplete or response.failed. Headers: x-request-id, x-task-id, x-ratelimit-*.',
              content: { 'application/json': { schema: responseObjectSchema }, 'text/event-stream': { schema: responseStreamEventSchema } },
            },
            ...submissionErrors,
            ...errorResponses({ 502: 'Every model of the chain failed.', 504: 'The answer did not finish (start, when streamed) in time.' }),
          },
        },
      },
      '/v1/responses/{id}': {
        get: {
          tags: ['openai'],
          summary: 'Get a stored response, or (stream=true) its events again after starting_after',
          security: security.apiKey,
          requestParams: { path: responseId, header: actingUser, query: retrieveQuerySchema },
          responses: { '200': { description: 'The response (in_progress while its task runs); with stream=true, its events as `POST /v1/responses` streamed them, numbered the same.', content: { 'application/json': { schema: responseObjectSchema }, 'text/event-stream': { schema: responseStreamEventSchema } } }, ...errorResponses({ 400: 'Invalid query.', ...authErrors, 404: 'No such response of the user (or key) the request acts for (or stored with store: false, or expired); with stream=true, also when its events expired.' }) },
        },
        delete: { tags: ['openai'], summary: 'Delete a stored response', security: security.apiKey, requestParams: { path: responseId, header: actingUser }, responses: { '200': json('Deleted.', z.object({ id: z.string(), object: z.literal('response.deleted'), deleted: z.literal(true) })), ...errorResponses({ ...authErrors, 404: "No such response of this key's tenant." }) } },
      },
      '/v1/responses/{id}/cancel': {
        post: { tags: ['openai'], summary: 'Cancel a response still running (a background one)', security: security.apiKey, requestParams: { path: responseId, header: actingUser }, responses: { '200': json('The response: cancelled, or as it ended if it already had.', responseObjectSchema), ...errorResponses({ ...authErrors, 404: "No such response of this key's tenant." }) } },
      },
      '/v1/responses/{id}/input_items': {
        get: { tags: ['openai'], summary: "A stored response's input items", security: security.apiKey, requestParams: { path: responseId, header: actingUser }, responses: { '200': json('The input items, in order.', z.object({ object: z.literal('list'), data: z.array(z.record(z.string(), z.unknown())), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() })), ...errorResponses({ ...authErrors, 404: "No such response of this key's tenant." }) } },
      },
      '/v1/conversations': {
        post: { tags: ['conversations'], summary: 'Create a conversation, with up to 20 first items', security: endUserSecurity, requestParams: { header: actingUser }, requestBody: jsonBody(conversationCreateSchema), responses: { '200': json('The conversation.', conversationObjectSchema), ...errorResponses({ 400: 'Invalid request, an inline image, or words on the list.', ...userAuthErrors, 403: 'X-User-Id names another user than the token.' }) } },
        get: { tags: ['conversations'], summary: "The caller's conversations, most recently changed first (the platform's)", security: endUserSecurity, requestParams: { header: actingUser, query: conversationsQuerySchema }, responses: { '200': json('A page of conversations.', conversationListSchema), ...errorResponses({ 400: 'Invalid query.', ...userAuthErrors }) } },
      },
      '/v1/conversations/{id}': {
        get: { tags: ['conversations'], summary: 'Get a conversation', security: endUserSecurity, requestParams: { header: actingUser, path: conversationId }, responses: { '200': json('The conversation.', conversationObjectSchema), ...errorResponses({ ...userAuthErrors, 404: conversationMissing }) } },
        post: { tags: ['conversations'], summary: "Replace a conversation's metadata", security: endUserSecurity, requestParams: { header: actingUser, path: conversationId }, requestBody: jsonBody(conversationUpdateSchema), responses: { '200': json('The conversation.', conversationObjectSchema), ...errorResponses({ 400: 'Invalid metadata.', ...userAuthErrors, 404: conversationMissing }) } },
        delete: { tags: ['conversations'], summary: 'Delete a conversation with its items and stored responses (publishes conversation.deleted)', security: endUserSecurity, requestParams: { header: actingUser, path: conversationId }, responses: { '200': json('Deleted.', z.object({ id: z.string(), object: z.literal('conversation.deleted'), deleted: z.literal(true) })), ...errorResponses({ ...userAuthErrors, 404: conversationMissing, 503: 'The broker is unavailable; nothing was deleted, retry.' }) } },
      },
      '/v1/conversations/{id}/items': {
        get: { tags: ['conversations'], summary: "A page of a conversation's items (newest first unless order=asc)", security: endUserSecurity, requestParams: { header: actingUser, path: conversationId, query: itemsQuerySchema }, responses: { '200': json('A page of items.', itemListSchema), ...errorResponses({ 400: 'Invalid query.', ...userAuthErrors, 404: conversationMissing }) } },
        post: { tags: ['conversations'], summary: 'Add up to 20 items to a conversation', security: endUserSecurity, requestParams: { header: actingUser, path: conversationId }, requestBody: jsonBody(itemsCreateSchema), responses: { '200': json('The items added, with their ids.', itemListSchema), ...errorResponses({ 400: 'Invalid items, an inline image, or words on the list.', ...userAuthErrors, 404: conversationMissing }) } },
      },
      '/v1/conversations/{id}/items/{itemId}': {
        get: { tags: ['conversations'], summary: 'Get an item', security: endUserSecurity, requestParams: { header: actingUser, path: conversationItemId }, responses: { '200': json('The item.', conversationItemSchema), ...errorResponses({ ...userAuthErrors, 404: 'No such conversation or item.' }) } },
        delete: { tags: ['conversations'], summary: 'Delete an item', security: endUserSecurity, requestParams: { header: actingUser, path: conversationItemId }, responses: { '200': json('The conversation.', conversationObjectSchema), ...errorResponses({ ...userAuthErrors, 404: 'No such conversation or item.' }) } },
      },
      '/v1/users/{userId}/export': {
        get: {
          tags: ['users'],
          summary: 'Everything kept of an end user: profile and conversations with their items (JSON)',
          security: endUserSecurity,
          requestParams: { path: userId },
          responses: { '200': json('The export.', z.object({ object: z.literal('user.export'), user_id: z.string(), exported_at: z.string(), profile: z.record(z.string(), z.unknown()).nullable(), conversations: z.array(conversationObjectSchema.extend({ items: z.array(conversationItemSchema) })) })), ...errorResponses({ 400: 'Invalid user id.', ...userAuthErrors, 404: "A realtime token of another user." }) },
        },
      },
      '/v1/models': { get: { tags: ['openai'], summary: 'List the models the key may use', security: security.apiKey, responses: { '200': json('The chat models served and the embedding model.', modelListSchema), ...errorResponses(authErrors) } } },
      '/v1/embeddings': {
        post: {
          tags: ['openai'],
          summary: "Embed texts on the platform's embedding model",
          security: security.apiKey,
          requestBody: jsonBody(embeddingsRequestSchema(limits.EMBEDDINGS_MAX_INPUTS).meta({ id: 'EmbeddingsRequest' })),
          responses: {
            '200': json('One vector per text, in input order.', embeddingsResponseSchema),
            ...errorResponses({ 400: 'Invalid request, token arrays, another `dimensions`, or a text longer than the model reads.', ...authErrors, 403: 'The key may not use the embedding model.', 404: 'No such embedding model.', 429: 'Refused by the key’s rate limits (Retry-After, x-ratelimit-*).', 503: 'The embedding model could not be loaded; retry.' }),
          },
        },
      },
      '/v1/tasks': {
        post: {
          tags: ['tasks'],
          summary: 'Submit a chat request as a task (answered at once with its id)',
          security: security.apiKey,
          requestParams: { header: idempotencyKey.extend(actingUser.shape) },
          requestBody: jsonBody(chatRequest),
          responses: { '202': json('Accepted: the task, `queued`.', taskViewSchema), ...submissionErrors },
        },
      },
      '/v1/tasks/{id}': {
        get: { tags: ['tasks'], summary: 'Get a task', security: security.apiKey, requestParams: { path: taskId }, responses: { '200': json('The task.', taskViewSchema), ...errorResponses({ ...authErrors, 404: 'No such task for this tenant.' }) } },
        delete: {
          tags: ['tasks'],
          summary: 'Cancel a task',
          security: security.apiKey,
          requestParams: { path: taskId },
          responses: { '202': json('The task: `cancelled`, or still running until its worker sees the request.', taskViewSchema), ...errorResponses({ ...authErrors, 404: 'No such task for this tenant.' }) },
        },
      },
      '/v1/tasks/{id}/events': {
        get: {
          tags: ['tasks'],
          summary: "Follow a task's events (SSE, resumable with Last-Event-ID)",
          security: security.apiKey,
          requestParams: { path: taskId, header: z.object({ 'last-event-id': z.string().optional().meta({ description: 'Resume after this event id.' }) }) },
          responses: {
            '200': sse('Events `status`, `delta`, `tool_call`, `restart`, then `done` or `error`; each `data:` is the event as JSON, each `id:` a resumable event id.'),
            ...errorResponses({ 400: 'A Last-Event-ID this stream never gave out.', ...authErrors, 404: 'No such task for this tenant.' }),
          },
        },
      },
      '/v1/realtime/tokens': {
        post: {
          tags: ['realtime'],
          summary: "Issue a short-lived token for a user's browser (rtc-push)",
          security: security.apiKey,
          requestBody: jsonBody(realtimeTokenRequestSchema.meta({ id: 'RealtimeTokenRequest' })),
          responses: { '201': json('The token and what it allows.', realtimeTokenSchema), ...errorResponses({ 400: 'Invalid request.', ...authErrors, 403: 'The key may not use a model asked for.', 404: 'A model asked for is not served.', 503: 'Token storage is unavailable.' }) },
        },
      },
      '/v1/users/{userId}/profile': {
        get: { tags: ['users'], summary: "Get a user's profile", security: endUserSecurity, requestParams: { path: userId }, responses: { '200': json('The profile.', profileViewSchema), ...errorResponses({ 400: 'Invalid user id.', ...authErrors, 404: 'This user has no profile.' }) } },
        put: {
          tags: ['users'],
          summary: 'Create or replace a profile (fields not sent are gone)',
          security: endUserSecurity,
          requestParams: { path: userId },
          requestBody: jsonBody(userProfile),
          responses: { '200': json('The stored profile.', profileViewSchema), ...errorResponses({ 400: 'Invalid user id or profile.', ...authErrors, 503: 'The broker is unavailable; retry.' }) },
        },
        patch: {
          tags: ['users'],
          summary: 'Merge-patch a profile (null removes a field)',
          security: endUserSecurity,
          requestParams: { path: userId },
          requestBody: { required: true, content: { 'application/merge-patch+json': { schema: profilePatch }, 'application/json': { schema: profilePatch } } },
          responses: { '200': json('The stored profile.', profileViewSchema), ...errorResponses({ 400: 'Invalid user id or profile.', ...authErrors, 503: 'The broker is unavailable; retry.' }) },
        },
        delete: { tags: ['users'], summary: 'Delete a profile', security: endUserSecurity, requestParams: { path: userId }, responses: { '204': { description: 'Deleted.' }, ...errorResponses({ 400: 'Invalid user id.', ...authErrors, 404: 'This user has no profile.' }) } },
      },
      '/v1/usage': {
        get: {
          tags: ['usage'],
          summary: "The calling key's own usage and cost",
          security: security.apiKey,
          requestParams: { query: z.object({ ...usageWindow, group_by: z.string().optional().meta({ description: 'Comma-separated: model, provider, status, user, and day or hour. Default: day.' }) }) },
          responses: { '200': json('Sums per group, newest bucket first.', usageReport), ...errorResponses({ 400: 'A bad window or grouping.', ...authErrors }) },
        },
      },
      '/v1/feedback': {
        post: {
          tags: ['usage'],
          summary: 'Rate an answer (-1 to 1), by its task or response id; a later rating replaces it',
          security: endUserSecurity,
          requestBody: jsonBody(feedbackInputSchema),
          responses: {
            '201': json('The rating as kept.', feedbackViewSchema),
            ...errorResponses({ 400: 'A bad score, comment or id.', ...userAuthErrors, 404: 'No finished answer with that id that this key or user may rate.', 409: 'The answer did not complete.', 503: 'The usage ledger is unavailable; retry.' }),
          },
        },
      },
      '/admin/usage': {
        get: {
          tags: ['admin'],
          summary: 'Usage and cost across tenants, keys, users, models and providers (JSON or CSV)',
          security: security.admin,
          requestParams: {
            query: z.object({
              ...usageWindow,
              tenant_id: z.string().optional(),
              key_id: z.string().optional(),
              group_by: z.string().optional().meta({ description: 'Comma-separated: tenant, key, user, model, provider, status, and day or hour. Default: day.' }),
              format: z.enum(['json', 'csv']).optional(),
            }),
          },
          responses: { '200': { description: 'Sums per group, newest bucket first.', content: { 'application/json': { schema: usageReport }, 'text/csv': { schema: z.string() } } }, ...errorResponses({ 400: 'A bad window, grouping or format.', ...adminErrors }) },
        },
      },
      '/admin/budgets': {
        get: {
          tags: ['admin'],
          summary: "Spend budgets (the policies document's) with what each has spent in its current period",
          security: security.admin,
          requestParams: { query: z.object({ tenant_id: z.string().optional() }) },
          responses: {
            '200': json(
              'Every budget, reservations of running requests included in its spend.',
              z
                .object({
                  object: z.literal('list'),
                  data: z.array(
                    z
                      .object({
                        id: z.string(), tenantId: z.string(), keyId: z.string().optional(), model: z.string().optional(), amountUsd: z.number(), period: z.enum(['day', 'month']), softPercent: z.number(),
                        periodId: z.string(), spentUsd: z.number(), remainingUsd: z.number(), softReached: z.boolean(), resetsAt: z.iso.datetime(),
                      })
                      .strict(),
                  ),
                })
                .meta({ id: 'BudgetList' }),
            ),
            ...errorResponses({ ...adminErrors }),
          },
        },
      },
      '/admin/keys': {
        post: {
          tags: ['admin'],
          summary: 'Create an API key (the secret is shown once)',
          security: security.admin,
          requestBody: jsonBody(apiKeyInputSchema.meta({ id: 'ApiKeyInput' })),
          responses: { '201': json('The secret and the key.', issuedKey), ...errorResponses({ 400: 'Invalid key, or a model nothing serves.', ...adminErrors }) },
        },
        get: {
          tags: ['admin'],
          summary: "List a tenant's keys",
          security: security.admin,
          requestParams: { query: z.object({ tenantId: z.string() }) },
          responses: { '200': json('The keys, oldest first (never their secrets).', z.array(apiKeyRecordSchema.meta({ id: 'ApiKey' }))), ...errorResponses({ 400: 'tenantId is missing.', ...adminErrors }) },
        },
      },
      '/admin/keys/{id}/rotate': {
        post: { tags: ['admin'], summary: 'Give a key a new secret (the old one stops working at once)', security: security.admin, requestParams: { path: keyId }, responses: { '201': json('The new secret and the key.', issuedKey), ...errorResponses({ ...adminErrors, 404: 'No active key with that id.' }) } },
      },
      '/admin/keys/{id}': {
        delete: { tags: ['admin'], summary: 'Revoke a key', security: security.admin, requestParams: { path: keyId }, responses: { '204': { description: 'Revoked.' }, ...errorResponses({ ...adminErrors, 404: 'No key with that id.' }) } },
      },
      '/admin/config/{name}': {
        get: { tags: ['admin'], summary: 'Get the current version of a run-time document', security: security.admin, requestParams: { path: documentName }, responses: { '200': json('The document (routing: provider secrets redacted); version 0 and body null when none is stored.', configDocument), ...errorResponses({ ...adminErrors, 404: 'No such document.' }) } },
        put: {
          tags: ['admin'],
          summary: 'Write a new version of a run-time document',
          security: security.admin,
          requestParams: { path: documentName },
          requestBody: jsonBody(documentBody),
          responses: { '200': json('The new version; every instance applies it within a second.', configDocument), ...errorResponses({ 400: 'The document is invalid.', ...adminErrors, 404: 'No such document.' }) },
        },
        delete: {
          tags: ['admin'],
          summary: 'Delete a run-time document: the start-up settings apply again',
          security: security.admin,
          requestParams: { path: documentName },
          responses: { '200': json('The new version, with body null.', configDocument), ...errorResponses({ ...adminErrors, 404: 'No such document, or none is stored.' }) },
        },
      },
      '/admin/config/{name}/versions': {
        get: { tags: ['admin'], summary: 'List the versions of a run-time document', security: security.admin, requestParams: { path: documentName }, responses: { '200': json('Versions, newest first.', configVersions), ...errorResponses({ ...adminErrors, 404: 'No such document.' }) } },
      },
      '/admin/config/{name}/versions/{version}': {
        get: { tags: ['admin'], summary: 'Get one version of a run-time document', security: security.admin, requestParams: { path: documentVersion }, responses: { '200': json('The version.', configVersion), ...errorResponses({ 400: 'Invalid version.', ...adminErrors, 404: 'No such document or version.' }) } },
      },
      '/admin/config/{name}/versions/{version}/restore': {
        post: {
          tags: ['admin'],
          summary: "Restore a version: a new version with that version's body",
          security: security.admin,
          requestParams: { path: documentVersion },
          responses: { '200': json('The new version; every instance applies it within a second.', configDocument), ...errorResponses({ 400: 'Invalid version, or one that is no longer a valid document.', ...adminErrors, 404: 'No such document or version.' }) },
        },
      },
    },
  });
}
