import { createEmbeddings, embeddingsConfigOf } from '@aip/embeddings';
import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import { EmbeddingClassifier } from './embedding.classifier.ts';

// The default catalogue with the real embedded model (all-MiniLM-L6-v2): phrasings that are not
// among the examples, and things that must not trigger anything. Figures in docs/adr/0008.
const catalogue = parseCatalogue(DEFAULT_CATALOGUE);
let classifier: EmbeddingClassifier;

beforeAll(async () => {
  classifier = new EmbeddingClassifier((await createEmbeddings(embeddingsConfigOf({}))).embeddings);
});

describe('default catalogue × all-MiniLM-L6-v2', () => {
  it.each([
    ['What should we visit in Shanghai?', 'city_attractions'],
    ['any good places to see in Chengdu', 'city_attractions'],
    ['what is there to do in Reykjavik', 'city_attractions'],
    ['top things to see in Seoul', 'city_attractions'],
    ['book me a train to Munich', 'travel_transport'],
    ['how to get from Hangzhou to Shanghai', 'travel_transport'],
    ['how to bake bread', 'recipe_cooking'],
    ['what should I eat tonight', 'recipe_cooking'],
    ['printer says paper jam', 'troubleshooting'],
    ['can you explain quantum entanglement', 'learning_topic'],
  ])('%j → %s', async (text, intent) => {
    expect(await classifier.classify([text], catalogue)).toMatchObject({ intent, turn: 0 });
  });

  it.each(['hello', 'thanks!', 'what is the weather today', 'tell me a joke', 'who won the football match', 'write me a poem about love', 'translate this into French', 'ok', 'I am bored', 'what time is it in Beijing', 'Beijing population'])(
    '%j → no intent',
    async (text) => {
      expect(await classifier.classify([text], catalogue)).toBeUndefined();
    },
  );

  it('a thank-you after a question about sights still leads back to the question', async () => {
    expect(await classifier.classify(['great, thank you!', 'what are the sights in Beijing?'], catalogue)).toMatchObject({ intent: 'city_attractions', turn: 1 });
  });
});
