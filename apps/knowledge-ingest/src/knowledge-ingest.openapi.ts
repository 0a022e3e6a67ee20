import { errorResponses, json, jsonBody, platformOpenApiDocument, security } from '@aip/runtime';
import { z } from 'zod';
import { jsonDocumentSchema, multipartFieldsSchema } from './documents/document-request.schema.ts';
import { documentChangeSchema, documentViewSchema, knowledgeBaseViewSchema } from './documents/document.view.ts';
import { createKnowledgeBaseSchema } from './knowledge-bases/knowledge-base-request.schema.ts';
import { knowledgeBaseDeletedSchema, knowledgeBaseDetailSchema } from './knowledge-bases/knowledge-base-response.schema.ts';
import { notificationReceiptSchema } from './notifications/notification-receipt.schema.ts';
import { objectStoreNotificationSchema } from './notifications/object-store.notification.ts';
import { queryRequestSchema } from './query/query-request.schema.ts';
import { queryResponseSchema } from './query/query-response.schema.ts';

const kb = z.object({ kb: z.string().meta({ description: 'The knowledge base id.' }) });
const kbDoc = kb.extend({ doc: z.string().meta({ description: 'The document id.' }) });
const authErrors = { 401: 'No API key, or an unknown or revoked one.' };
const kbMissing = { 404: "No such knowledge base (another tenant's is the same as none)." };

/** A document: JSON with the content inline, or a multipart upload of one file (`file`) with the same fields. */
const documentBody = {
  required: true,
  content: {
    'application/json': { schema: jsonDocumentSchema.meta({ id: 'DocumentInput' }) },
    'multipart/form-data': { schema: multipartFieldsSchema.extend({ file: z.string().meta({ format: 'binary', description: 'The file (one).' }) }).meta({ description: '`metadata` is a JSON object of strings, as text.' }) },
  },
};
const uploadErrors = errorResponses({
  400: 'Invalid document or fields.',
  ...authErrors,
  ...kbMissing,
  413: 'The file is larger than MAX_UPLOAD_BYTES or the tenant’s upload quota.',
  415: 'Neither JSON nor a multipart form.',
  429: 'The tenant’s uploads waiting to be indexed are at its quota (Retry-After).',
  503: 'The broker is unavailable; send it again.',
});

/** knowledge-ingest's OpenAPI document: knowledge bases, documents (uploads), retrieval queries, object-store notifications. */
export function appOpenApi(): Record<string, unknown> {
  return platformOpenApiDocument({
    title: 'knowledge-ingest',
    description: "Knowledge bases of the key's tenant: create them, add, replace and delete documents (indexed asynchronously: poll the document's status), query them, and feed them from S3-style object-store notifications.",
    paths: {
      '/v1/knowledge-bases': {
        post: {
          tags: ['knowledge bases'],
          summary: 'Create a knowledge base',
          security: security.apiKey,
          requestBody: jsonBody(createKnowledgeBaseSchema.meta({ id: 'KnowledgeBaseInput' })),
          responses: { '201': json('Created.', knowledgeBaseViewSchema), ...errorResponses({ 400: 'Invalid id or chunk settings.', ...authErrors, 409: 'It exists already.' }) },
        },
        get: { tags: ['knowledge bases'], summary: "List the tenant's knowledge bases", security: security.apiKey, responses: { '200': json('The knowledge bases.', z.object({ object: z.literal('list'), data: z.array(knowledgeBaseViewSchema) })), ...errorResponses(authErrors) } },
      },
      '/v1/knowledge-bases/{kb}': {
        get: { tags: ['knowledge bases'], summary: 'Get a knowledge base with its document counts', security: security.apiKey, requestParams: { path: kb }, responses: { '200': json('The knowledge base.', knowledgeBaseDetailSchema), ...errorResponses({ 400: 'Invalid id.', ...authErrors, ...kbMissing }) } },
        delete: {
          tags: ['knowledge bases'],
          summary: 'Delete a knowledge base, its documents and every chunk',
          security: security.apiKey,
          requestParams: { path: kb },
          responses: { '200': json('Deleted; nothing of it is served any more.', knowledgeBaseDeletedSchema), ...errorResponses({ 400: 'Invalid id.', ...authErrors, ...kbMissing }) },
        },
      },
      '/v1/knowledge-bases/{kb}/documents': {
        post: { tags: ['documents'], summary: 'Add a document (indexed asynchronously)', security: security.apiKey, requestParams: { path: kb }, requestBody: documentBody, responses: { '202': json('Queued: poll the document for its status.', documentChangeSchema), ...uploadErrors } },
        get: {
          tags: ['documents'],
          summary: 'List the documents of a knowledge base',
          security: security.apiKey,
          requestParams: { path: kb },
          responses: { '200': json('The documents with their status.', z.object({ object: z.literal('list'), data: z.array(documentViewSchema) })), ...errorResponses({ 400: 'Invalid id.', ...authErrors, ...kbMissing }) },
        },
      },
      '/v1/knowledge-bases/{kb}/documents/{doc}': {
        put: { tags: ['documents'], summary: 'Replace a document with a new version (the old one is served until the new one is complete)', security: security.apiKey, requestParams: { path: kbDoc }, requestBody: documentBody, responses: { '202': json('Queued.', documentChangeSchema), ...uploadErrors } },
        get: { tags: ['documents'], summary: 'Get a document: status, progress, versions', security: security.apiKey, requestParams: { path: kbDoc }, responses: { '200': json('The document.', documentViewSchema), ...errorResponses({ 400: 'Invalid id.', ...authErrors, 404: 'No such knowledge base or document.' }) } },
        delete: {
          tags: ['documents'],
          summary: 'Delete a document (not served from now on; chunks removed in order)',
          security: security.apiKey,
          requestParams: { path: kbDoc },
          responses: { '202': json('Deleting.', documentChangeSchema), ...errorResponses({ 400: 'Invalid id.', ...authErrors, 404: 'No such knowledge base or document.', 503: 'The broker is unavailable; send it again.' }) },
        },
      },
      '/v1/knowledge-bases/{kb}/query': {
        post: {
          tags: ['retrieval'],
          summary: 'Passages of a knowledge base that answer a query, best first',
          security: security.apiKey,
          requestParams: { path: kb },
          requestBody: jsonBody(queryRequestSchema.meta({ id: 'QueryInput' })),
          responses: { '200': json('The passages with their citations.', queryResponseSchema), ...errorResponses({ 400: 'Invalid query.', ...authErrors, ...kbMissing }) },
        },
      },
      '/v1/notifications/object-store': {
        post: {
          tags: ['object store'],
          summary: 'Receive an S3-style event notification (AWS S3, MinIO, Ceph RGW)',
          security: security.apiKey,
          requestBody: jsonBody(objectStoreNotificationSchema.meta({ id: 'ObjectStoreNotification' }), "Records of mapped buckets (OBJECT_STORE_MAPPINGS) become document changes of the key's tenant."),
          responses: {
            '202': json('The changes queued and the records ignored.', notificationReceiptSchema),
            ...errorResponses({ 400: 'Invalid notification.', ...authErrors, 429: 'The tenant’s upload quota is full (Retry-After).', 503: 'The broker is unavailable; send the notification again.' }),
          },
        },
      },
    },
  });
}
