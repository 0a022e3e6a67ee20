import { TopicEmbeddings, TRAVEL_TOPICS } from '../../test/fake-embeddings.ts';
import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import { analyse, endsWithQuestion, type Turn } from './analyser.ts';
import { EmbeddingClassifier } from './embedding.classifier.ts';

const catalogue = parseCatalogue(DEFAULT_CATALOGUE);
const classifier = new EmbeddingClassifier(new TopicEmbeddings(TRAVEL_TOPICS));
const user = (content: string): Turn => ({ role: 'user', content });
const assistant = (content: string): Turn => ({ role: 'assistant', content });
const AT = Date.UTC(2026, 10, 22, 12, 0);

describe('conversation analysis', () => {
  it('turns a question about sights in Beijing into a hotel offer for Beijing, due at once', async () => {
    const { candidates } = await analyse([user('what are the sights in Beijing?'), assistant('The Forbidden City, the Great Wall and the Temple of Heaven.')], AT, catalogue, classifier);
    expect(candidates).toEqual([
      expect.objectContaining({ intent: 'city_attractions', slots: { city: 'Beijing' }, text: 'Planning a trip to Beijing? I can suggest hotels in Beijing.', dueAt: AT, expiresAt: AT + 30 * 60_000 }),
    ]);
  });

  it('takes the city of the question that shows the intent, even after a later turn names another place', async () => {
    const turns = [user('what are the sights in Rome?'), assistant('The Colosseum...'), user('thanks, my friend from Paris says hi')];
    const { candidates } = await analyse(turns, AT, catalogue, classifier);
    expect(candidates[0]).toMatchObject({ intent: 'city_attractions', slots: { city: 'Rome' } });
  });

  it('schedules a check-in after the assistant asked a question, after the catalogue\'s silence', async () => {
    const { candidates } = await analyse([user('hello'), assistant('Which city are you travelling to?')], AT, catalogue, classifier);
    expect(candidates).toEqual([expect.objectContaining({ intent: 'unanswered_question', dueAt: AT + 10 * 60_000 })]);
  });

  it('reports an intent whose required slot is missing instead of writing a broken prompt', async () => {
    const outcome = await analyse([user('what are the sights around here?')], AT, catalogue, classifier);
    expect(outcome).toEqual({ candidates: [], skipped: [{ intent: 'city_attractions', reason: 'slot_missing' }] });
  });

  it('has nothing to say about small talk', async () => {
    expect(await analyse([user('hi'), assistant('Hello! Nice to meet you.')], AT, catalogue, classifier)).toEqual({ candidates: [], skipped: [] });
  });

  it('recognises questions in several scripts', () => {
    expect(endsWithQuestion([assistant('你想去哪里？')])).toBe(true);
    expect(endsWithQuestion([assistant('Shall I book it?" ')])).toBe(true);
    expect(endsWithQuestion([assistant('Done.')])).toBe(false);
    expect(endsWithQuestion([assistant('Anything else?'), user('no')])).toBe(false);
  });
});
