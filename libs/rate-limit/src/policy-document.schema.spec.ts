import { policyDocumentSchema, resolvePolicy } from './policy-document.schema.ts';

describe('resolvePolicy', () => {
  const fallback = { id: 'env', requestsPerMinute: 600 };
  const document = policyDocumentSchema.parse({ default: { id: 'platform', requestsPerMinute: 100 }, tenants: { acme: { id: 'acme', requestsPerMinute: 10 } } });

  it('prefers the key\'s own policy, then the tenant\'s, then the document default, then the start-up default', () => {
    expect(resolvePolicy(document, 'acme', { id: 'key', requestsPerMinute: 1 }, fallback).id).toBe('key');
    expect(resolvePolicy(document, 'acme', undefined, fallback).id).toBe('acme');
    expect(resolvePolicy(document, 'globex', undefined, fallback).id).toBe('platform');
    expect(resolvePolicy(undefined, 'acme', undefined, fallback).id).toBe('env');
  });

  it('refuses a document with an unknown field (a typo must not silently lift a limit)', () => {
    expect(policyDocumentSchema.safeParse({ tenants: { acme: { id: 'a', requestPerMinute: 10 } } }).success).toBe(false);
  });
});
