import { applyRoutingDocument, applyWordsDocument } from './documents.ts';
import { ModelCatalog } from './models/model-catalog.ts';
import { Moderation } from './moderation/moderation.service.ts';

describe('run-time documents at the edges', () => {
  it('serves the routing document\'s aliases, and refuses a document without models (the old list stays)', () => {
    const catalog = new ModelCatalog(['extractive']);
    expect(applyRoutingDocument(catalog)({ models: { fast: {}, smart: {} } })).toEqual({ models: ['fast', 'smart'] });
    expect(() => applyRoutingDocument(catalog)({ nothing: true })).toThrow();
    expect(catalog.aliases).toEqual(['fast', 'smart']);
  });

  it('applies a new word list, and refuses an invalid one (the old list stays)', () => {
    const moderation = new Moderation({ words: [], input: 'block' });
    applyWordsDocument(moderation)({ words: ['forbidden'] });
    expect(moderation.filter.size).toBe(1);
    expect(() => applyWordsDocument(moderation)({ words: 'not a list' })).toThrow();
    expect(moderation.filter.size).toBe(1);
  });

  it('goes back to the start-up models and words when a document is deleted (a null body)', () => {
    const catalog = new ModelCatalog(['extractive']);
    applyRoutingDocument(catalog)({ models: { fast: {} } });
    expect(applyRoutingDocument(catalog)(null)).toEqual({ models: ['extractive'] });
    const moderation = new Moderation({ words: ['startup'], input: 'mask' });
    applyWordsDocument(moderation)({ words: ['a', 'b'], input: 'block' });
    expect(applyWordsDocument(moderation)(null)).toEqual({ words: 1 });
    expect(moderation.input).toBe('mask');
  });
});
