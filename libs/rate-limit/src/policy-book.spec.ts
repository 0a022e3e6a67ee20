import { PolicyBook } from './policy-book.ts';

const DEFAULT = JSON.stringify({ id: 'default', requestsPerMinute: 60 });

describe('PolicyBook', () => {
  it('uses DEFAULT_POLICY until a policies document arrives, then the most specific policy of the document', () => {
    const book = new PolicyBook(DEFAULT);
    expect(book.resolve({ tenantId: 'acme', model: 'fast' }, undefined).policy).toMatchObject({ id: 'default', requestsPerMinute: 60 });
    expect(
      book.apply({
        default: { id: 'doc-default', requestsPerMinute: 30 },
        tenants: { acme: { id: 'acme', requestsPerMinute: 600 } },
        models: { fast: { id: 'fast', requestsPerMinute: 10 } },
        tenantModels: { acme: { fast: { id: 'acme-fast', requestsPerMinute: 5 } } },
      }),
    ).toEqual({ tenants: 1 });
    expect(book.resolve({ tenantId: 'acme', model: 'fast' }, undefined)).toMatchObject({ policy: { id: 'acme-fast' }, perModel: true });
    expect(book.resolve({ tenantId: 'acme', model: 'smart' }, undefined)).toMatchObject({ policy: { id: 'acme' }, perModel: false });
    expect(book.resolve({ tenantId: 'other', model: 'fast' }, undefined)).toMatchObject({ policy: { id: 'fast' }, perModel: true });
    expect(book.resolve({ tenantId: 'other', model: 'smart' }, undefined).policy.id).toBe('doc-default');
    // A key's own policy wins over every document.
    expect(book.resolve({ tenantId: 'acme', model: 'fast' }, { id: 'key', requestsPerMinute: 1 }).policy.id).toBe('key');
  });

  it('refuses an invalid document and keeps the one in force', () => {
    const book = new PolicyBook(DEFAULT);
    book.apply({ tenants: { acme: { id: 'acme', requestsPerMinute: 600 } } });
    expect(() => book.apply({ tenants: { acme: { id: 'acme', requestsPerMinute: -1 } } })).toThrow();
    expect(book.resolve({ tenantId: 'acme', model: 'm' }, undefined).policy.id).toBe('acme');
  });

  it('goes back to the default policy alone when the document is deleted (a null body)', () => {
    const book = new PolicyBook({ id: 'default', requestsPerMinute: 60 });
    book.apply({ tenants: { acme: { id: 'acme', requestsPerMinute: 600 } } });
    expect(book.apply(null)).toEqual({ tenants: 0 });
    expect(book.resolve({ tenantId: 'acme', model: 'm' }, undefined).policy.id).toBe('default');
  });

  it('refuses an invalid DEFAULT_POLICY at start', () => {
    expect(() => new PolicyBook('{"requestsPerMinute":"many"}')).toThrow();
  });
});
