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

  // Regression (issues 14, 16): a NUL version was accepted (202) and broke every query of the
  // tenant; a lone surrogate in a doc id was a 500. Ids and labels follow the platform's one rule.
  it('refuses doc ids and version labels that fail the id rule, and accepts file names as ids', () => {
    const doc = { mediaType: 'text/plain', content: 'x' };
    for (const version of ['\u0000', 'v\n2', '\uDBFF', ' ']) expect(firstIssue(jsonDocumentSchema.safeParse({ ...doc, version }))).toBe('version');
    for (const docId of ['a\uD800', 'bell\u0007', '']) expect(firstIssue(jsonDocumentSchema.safeParse({ ...doc, docId }))).toBe('docId');
    expect(jsonDocumentSchema.parse({ ...doc, docId: 'Annual leave policy (2025) — final.pdf', version: '2025-03-01 rev 2' })).toMatchObject({ docId: 'Annual leave policy (2025) — final.pdf' });
    expect(firstIssue(multipartFieldsSchema.safeParse({ version: '\u0000' }))).toBe('version');
    expect(firstIssue(multipartFieldsSchema.safeParse({ docId: 'x\r' }))).toBe('docId');
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
