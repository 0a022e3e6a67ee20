import { limitSubject, policyDocumentSchema, resolvePolicy } from './policy-document.schema.ts';

describe('resolvePolicy', () => {
  const fallback = { id: 'env', requestsPerMinute: 600 };
  const document = policyDocumentSchema.parse({
    default: { id: 'platform', requestsPerMinute: 100 },
    models: { 'gpt-4o': { id: 'gpt-4o-platform', requestsPerMinute: 5 } },
    tenants: { acme: { id: 'acme', requestsPerMinute: 10 } },
    tenantModels: { acme: { 'gpt-4o': { id: 'acme-gpt-4o', requestsPerMinute: 2 } } },
  });
  const ids = (tenantId: string, model: string, key?: { id: string; requestsPerMinute: number }) => resolvePolicy(document, { tenantId, model }, key, fallback).policy.id;

  it("prefers the key's own policy, then the tenant's for the model, the tenant's, the platform's for the model, the default, the start-up default", () => {
    expect(ids('acme', 'gpt-4o', { id: 'key', requestsPerMinute: 1 })).toBe('key');
    expect(ids('acme', 'gpt-4o')).toBe('acme-gpt-4o');
    expect(ids('acme', 'extractive')).toBe('acme');
    expect(ids('globex', 'gpt-4o')).toBe('gpt-4o-platform');
    expect(ids('globex', 'extractive')).toBe('platform');
    expect(resolvePolicy(undefined, { tenantId: 'acme', model: 'gpt-4o' }, undefined, fallback).policy.id).toBe('env');
  });

  it('counts a model-specific policy per key and model, every other policy per key', () => {
    expect(limitSubject('k1', 'gpt-4o', resolvePolicy(document, { tenantId: 'globex', model: 'gpt-4o' }, undefined, fallback))).toBe('k1|gpt-4o');
    expect(limitSubject('k1', 'gpt-4o', resolvePolicy(document, { tenantId: 'acme', model: 'gpt-4o' }, undefined, fallback))).toBe('k1|gpt-4o');
    expect(limitSubject('k1', 'extractive', resolvePolicy(document, { tenantId: 'globex', model: 'extractive' }, undefined, fallback))).toBe('k1');
  });

  it('refuses a document with an unknown field (a typo must not silently lift a limit)', () => {
    expect(policyDocumentSchema.safeParse({ tenants: { acme: { id: 'a', requestPerMinute: 10 } } }).success).toBe(false);
    expect(policyDocumentSchema.safeParse({ model: { 'gpt-4o': { id: 'a', requestsPerMinute: 10 } } }).success).toBe(false);
  });
});
