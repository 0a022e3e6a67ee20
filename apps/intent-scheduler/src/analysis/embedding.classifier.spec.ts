import { TopicEmbeddings, TRAVEL_TOPICS } from '../../test/fake-embeddings.ts';
import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import { cosineSimilarity } from '@aip/embeddings';
import { EmbeddingClassifier, pickIntent, rankIntents } from './embedding.classifier.ts';

const catalogue = parseCatalogue(DEFAULT_CATALOGUE);

describe('embedding similarity', () => {
  it('ranks intents by their closest example', () => {
    const ranked = rankIntents([1, 0], [
      { intent: 'a', vector: [0, 1] },
      { intent: 'a', vector: [1, 0.1] },
      { intent: 'b', vector: [1, 1] },
    ]);
    expect(ranked.map((r) => r.intent)).toEqual(['a', 'b']);
    expect(ranked[0]!.score).toBeCloseTo(cosineSimilarity([1, 0], [1, 0.1]));
  });

  it('picks only a clear winner: above the threshold and ahead of the runner-up by the margin', () => {
    const threshold = () => 0.5;
    expect(pickIntent([{ intent: 'a', score: 0.8 }, { intent: 'b', score: 0.6 }], threshold, 0.1)).toEqual({ intent: 'a', score: 0.8 });
    expect(pickIntent([{ intent: 'a', score: 0.8 }, { intent: 'b', score: 0.75 }], threshold, 0.1)).toBeUndefined();
    expect(pickIntent([{ intent: 'a', score: 0.4 }], threshold, 0.1)).toBeUndefined();
    expect(pickIntent([{ intent: 'a', score: 0.4 }], (intent) => (intent === 'a' ? 0.3 : 0.5), 0.1)).toEqual({ intent: 'a', score: 0.4 });
  });
});

describe('EmbeddingClassifier', () => {
  it('recognises a question about sights in a city', async () => {
    const classifier = new EmbeddingClassifier(new TopicEmbeddings(TRAVEL_TOPICS));
    expect(await classifier.classify(['what are the sights in Beijing?'], catalogue)).toMatchObject({ intent: 'city_attractions', turn: 0 });
  });

  it('looks past a newest turn without intent to an earlier one, and says which turn decided', async () => {
    const classifier = new EmbeddingClassifier(new TopicEmbeddings(TRAVEL_TOPICS));
    expect(await classifier.classify(['thanks!', 'how do I cook a roast for dinner'], catalogue)).toMatchObject({ intent: 'recipe_cooking', turn: 1 });
  });

  it('finds nothing in small talk', async () => {
    const classifier = new EmbeddingClassifier(new TopicEmbeddings(TRAVEL_TOPICS));
    expect(await classifier.classify(['hello there', 'ok thanks'], catalogue)).toBeUndefined();
  });

  it('refuses a turn that sits between two intents (margin)', async () => {
    // Equally close to sightseeing and to cooking.
    const classifier = new EmbeddingClassifier(new TopicEmbeddings(TRAVEL_TOPICS));
    expect(await classifier.classify(['sights and recipe'], catalogue)).toBeUndefined();
  });

  it('only looks at the catalogue\'s number of recent user turns', async () => {
    const classifier = new EmbeddingClassifier(new TopicEmbeddings(TRAVEL_TOPICS));
    const older = ['hi', 'hmm', 'ok', 'what are the sights in Rome'];
    expect(await classifier.classify(older, { ...catalogue, userTurns: 3 })).toBeUndefined();
    expect(await classifier.classify(older, { ...catalogue, userTurns: 4 })).toMatchObject({ intent: 'city_attractions', turn: 3 });
  });

  it('embeds the example phrases once per catalogue, again after a reload, and retries after a failure', async () => {
    const embeddings = new TopicEmbeddings(TRAVEL_TOPICS);
    const classifier = new EmbeddingClassifier(embeddings);
    embeddings.failNext = true;
    await expect(classifier.classify(['sights in Rome'], catalogue)).rejects.toThrow('unavailable');
    await classifier.classify(['sights in Rome'], catalogue);
    await classifier.classify(['sights in Paris'], catalogue);
    const exampleCount = catalogue.intents.reduce((sum, i) => sum + i.examples.length, 0);
    expect(embeddings.calls.filter((texts) => texts.length === exampleCount)).toHaveLength(2); // failed + one good
    const reloaded = parseCatalogue(DEFAULT_CATALOGUE);
    await classifier.classify(['sights in Paris'], reloaded);
    expect(embeddings.calls.filter((texts) => texts.length === exampleCount)).toHaveLength(3);
  });
});
