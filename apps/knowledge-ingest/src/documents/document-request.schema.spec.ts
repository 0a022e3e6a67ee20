import { createKnowledgeBaseSchema } from '../knowledge-bases/knowledge-base-request.schema.ts';
import { queryRequestSchema } from '../query/query-request.schema.ts';
import { jsonDocumentSchema, multipartFieldsSchema } from './document-request.schema.ts';

const firstIssue = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => result.error?.issues[0]?.path.join('.');

describe('HTTP request validation', () => {
  it('accepts a JSON document and names the field that is wrong', () => {
    expect(jsonDocumentSchema.parse({ title: 'Guide', mediaType: 'text/markdown', content: '# Hi' })).toEqual({ title: 'Guide', mediaType: 'text/markdown', content: '# Hi' });
    expect(firstIssue(jsonDocumentSchema.safeParse({ mediaType: 'text/plain', content: '' }))).toBe('content');
    expect(firstIssue(jsonDocumentSchema.safeParse({ mediaType: 'text/plain' }))).toBe('content');
    expect(firstIssue(jsonDocumentSchema.safeParse({ mediaType: 'text/plain', content: 'x', docId: 'd'.repeat(129) }))).toBe('docId');
    expect(firstIssue(jsonDocumentSchema.safeParse({ mediaType: 'text/plain', content: 'x', metadata: { a: 1 } }))).toBe('metadata.a');
    expect(jsonDocumentSchema.safeParse({ mediaType: 'text/plain', content: 'x', surprise: true }).success).toBe(false);
  });

  it('reads multipart text fields, with metadata as a JSON string', () => {
    expect(multipartFieldsSchema.parse({ docId: 'a', metadata: '{"lang":"en"}' })).toEqual({ docId: 'a', metadata: { lang: 'en' } });
    expect(firstIssue(multipartFieldsSchema.safeParse({ metadata: '{not json' }))).toBe('metadata');
    expect(firstIssue(multipartFieldsSchema.safeParse({ metadata: '{"n": 1}' }))).toBe('metadata.n');
  });

  it('validates knowledge base ids and chunk settings', () => {
    expect(createKnowledgeBaseSchema.parse({ id: 'travel-guides_2', chunkSize: 500, chunkOverlap: 50 })).toMatchObject({ id: 'travel-guides_2' });
    for (const id of ['', '-lead', 'has space', 'a/b', 'x'.repeat(65)]) expect(firstIssue(createKnowledgeBaseSchema.safeParse({ id }))).toBe('id');
    expect(firstIssue(createKnowledgeBaseSchema.safeParse({ id: 'kb', chunkSize: 10 }))).toBe('chunkSize');
  });

  it('defaults a query to five hybrid passages and refuses blank queries and silly limits', () => {
    expect(queryRequestSchema.parse({ query: ' hotels ' })).toEqual({ query: 'hotels', limit: 5, mode: 'hybrid' });
    expect(firstIssue(queryRequestSchema.safeParse({ query: '   ' }))).toBe('query');
    expect(firstIssue(queryRequestSchema.safeParse({ query: 'x', limit: 0 }))).toBe('limit');
    expect(firstIssue(queryRequestSchema.safeParse({ query: 'x', mode: 'semantic' }))).toBe('mode');
  });
});
