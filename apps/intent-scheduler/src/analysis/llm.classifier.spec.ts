import { parseCatalogue, type Catalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import type { Classification, IntentClassifier } from './classifier.port.ts';
import { FallbackClassifier } from './fallback.classifier.ts';
import { classificationPrompt, classificationSchema, LlmClassifier, type StructuredModel } from './llm.classifier.ts';

const catalogue = parseCatalogue(DEFAULT_CATALOGUE);

function fakeModel(answer: unknown) {
  const seen: unknown[] = [];
  const model: StructuredModel = { invoke: async (input) => (seen.push(input), answer as Record<string, unknown>) };
  return { seen, bind: () => model };
}

describe('LlmClassifier (structured output)', () => {
  it('returns the model\'s intent and the slots the user actually wrote', async () => {
    const model = fakeModel({ intent: 'city_attractions', confidence: 0.9, turn: 0, slots: [{ name: 'city', value: 'Beijing' }, { name: 'city2', value: 'x' }] });
    const result = await new LlmClassifier(model.bind).classify(['what are the sights in Beijing?'], catalogue);
    expect(result).toEqual({ intent: 'city_attractions', score: 0.9, turn: 0, slots: { city: 'Beijing' } });
  });

  it('drops a slot value the user never wrote (the model invented it)', async () => {
    const model = fakeModel({ intent: 'city_attractions', confidence: 0.9, turn: 0, slots: [{ name: 'city', value: 'Shanghai' }] });
    expect(await new LlmClassifier(model.bind).classify(['sights in the capital?'], catalogue)).toMatchObject({ slots: {} });
  });

  it.each([
    ['"none"', { intent: 'none', confidence: 0.9, turn: 0, slots: [] }],
    ['an intent outside the catalogue', { intent: 'buy_car', confidence: 0.9, turn: 0, slots: [] }],
    ['a low confidence', { intent: 'city_attractions', confidence: 0.2, turn: 0, slots: [] }],
    ['a malformed answer', { intent: 'city_attractions' }],
  ])('treats %s as no intent', async (_, answer) => {
    expect(await new LlmClassifier(fakeModel(answer).bind).classify(['sights in Rome'], catalogue)).toBeUndefined();
  });

  it('offers only the user_turns intents and "none" to the model, and lists the turns newest first', () => {
    const schema = classificationSchema(catalogue);
    expect(schema.shape.intent.options).toEqual(['none', 'city_attractions', 'travel_transport', 'recipe_cooking', 'troubleshooting', 'learning_topic']);
    const [system, user] = classificationPrompt(['newest', 'older'], catalogue);
    expect(system!.content).toContain('city_attractions');
    expect(system!.content).not.toContain('unanswered_question');
    expect(user!.content).toBe('User messages, newest first:\n[0] "newest"\n[1] "older"');
  });
});

describe('FallbackClassifier', () => {
  const fixed = (name: string, result: Classification | Error): IntentClassifier => ({
    name,
    classify: async (_texts: readonly string[], _catalogue: Catalogue) => {
      if (result instanceof Error) throw result;
      return result;
    },
  });

  it('uses the embedding classifier when the chat model fails, and reports the failure', async () => {
    const failures: unknown[] = [];
    const classifier = new FallbackClassifier(fixed('llm', new Error('timeout')), fixed('embedding', { intent: 'recipe_cooking', score: 0.7, turn: 0 }), (e) => failures.push(e));
    expect(await classifier.classify(['x'], catalogue)).toMatchObject({ intent: 'recipe_cooking' });
    expect(failures).toHaveLength(1);
    expect(classifier.name).toBe('llm+embedding');
  });

  it('keeps the chat model\'s answer when it has one', async () => {
    const classifier = new FallbackClassifier(fixed('llm', { intent: 'city_attractions', score: 0.9, turn: 0 }), fixed('embedding', new Error('not called')));
    expect(await classifier.classify(['x'], catalogue)).toMatchObject({ intent: 'city_attractions' });
  });
});
