import { pino } from 'pino';
import { Registry } from 'prom-client';
import { TopicEmbeddings, TRAVEL_TOPICS } from '../../test/fake-embeddings.ts';
import { textItem, type ConversationItem } from '@aip/tasks';
import type { Candidate, Turn } from '../analysis/analyser.ts';
import { EmbeddingClassifier } from '../analysis/embedding.classifier.ts';
import { parseCatalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from '../catalogue/default-catalogue.ts';
import { SchedulerMetrics } from '../metrics/scheduler.metrics.ts';
import type { ShardLease } from '../sharding/shard-lock.ts';
import { LockLostError } from '../sharding/shard-runner.ts';
import type { SessionRef, SessionState } from '../state/activity.store.ts';
import type { Decision, PushRequest } from './push.dispatcher.ts';
import { SessionWorker } from './session.worker.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0);
const catalogue = parseCatalogue(DEFAULT_CATALOGUE);
const ref: SessionRef = { tenantId: 'acme', sessionId: 's1', userId: 'u1' };

/** A text turn as the conversation store keeps it. */
const itemOf = (turn: Turn, index: number): ConversationItem => ({ ...textItem(turn.role, turn.content), id: `msg_${index}`, status: 'completed' });

function setup(turns: Turn[], decide: (request: PushRequest) => Decision['outcome'] | 'lock_lost' = () => 'sent') {
  const clock = { now: T0 };
  const state: SessionState = { ...ref, lastActivityAt: T0, analysedAt: 0, candidates: [] };
  const index = { recent: [ref], due: [] as SessionRef[] };
  const embeddings = new TopicEmbeddings(TRAVEL_TOPICS);
  const requests: PushRequest[] = [];
  const interests: string[][] = [];
  let reads = 0;
  const worker = new SessionWorker(
    {
      activity: {
        sessions: async () => index.recent,
        due: async () => index.due,
        state: async () => ({ ...state, candidates: [...state.candidates] }),
        saveCandidates: async (_ref, analysedAt, candidates: readonly Candidate[]) => {
          state.analysedAt = analysedAt;
          state.candidates = [...candidates];
          return true;
        },
        forget: async () => undefined,
      },
      users: { recordInterests: async (_t, _u, terms) => void interests.push([...terms]) },
      conversations: { latest: async () => (reads++, turns.map(itemOf)) },
      classifier: () => new EmbeddingClassifier(embeddings),
      catalogue: () => catalogue,
      dispatcher: {
        dispatch: async (request) => {
          requests.push(request);
          const outcome = decide(request);
          return outcome === 'lock_lost' ? { outcome: 'failed', reason: 'lock_lost' } : ({ outcome, reason: outcome === 'sent' ? 'none' : 'streaming' } as Decision);
        },
      },
      metrics: SchedulerMetrics.for(new Registry()),
      logger: pino({ level: 'silent' }),
      clock: () => clock.now,
    },
    { sessionsPerShard: 100, recentTurns: 8, interestTtlMs: 86_400_000 },
  );
  const lease: ShardLease = { shard: 0, token: 't', check: async () => true, release: async () => undefined };
  return { worker, state, index, requests, interests, clock, lease, reads: () => reads };
}

const beijing: Turn[] = [
  { role: 'user', content: 'what are the sights in Beijing?' },
  { role: 'assistant', content: 'The Forbidden City.' },
];

describe('SessionWorker', () => {
  it('analyses a session once per new activity, sends the due prompt, records the interest', async () => {
    const { worker, state, requests, interests, lease, reads } = setup(beijing);
    await worker.work(0, lease);
    await worker.work(0, lease);
    expect(reads()).toBe(1);
    expect(requests).toEqual([expect.objectContaining({ kind: 'proactive', userId: 'u1', sessionId: 's1', intent: 'city_attractions', subject: { city: 'Beijing' }, text: 'Planning a trip to Beijing? I can suggest hotels in Beijing.', cooldownMs: 24 * 3_600_000 })]);
    expect(state.candidates).toEqual([]);
    expect(interests).toEqual([['city_attractions', 'Beijing']]);
  });

  it('keeps a postponed prompt and sends it on a later tick', async () => {
    let streaming = true;
    const { worker, state, requests, lease } = setup(beijing, () => (streaming ? 'deferred' : 'sent'));
    await worker.work(0, lease);
    expect(state.candidates.map((c) => c.intent)).toEqual(['city_attractions']);
    streaming = false;
    await worker.work(0, lease);
    expect(requests).toHaveLength(2);
    expect(state.candidates).toEqual([]);
  });

  it('holds a delayed check-in until its time', async () => {
    const { worker, state, requests, clock, lease } = setup([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Where would you like to go?' }]);
    await worker.work(0, lease);
    expect(requests).toHaveLength(0);
    expect(state.candidates).toEqual([expect.objectContaining({ intent: 'unanswered_question', dueAt: T0 + 10 * 60_000 })]);
    clock.now = T0 + 10 * 60_000;
    await worker.work(0, lease);
    expect(requests.map((r) => r.intent)).toEqual(['unanswered_question']);
  });

  it('sends a due prompt of a session that is no longer among the most recently active', async () => {
    const { worker, index, requests, clock, lease } = setup([{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Where would you like to go?' }]);
    await worker.work(0, lease);
    index.recent = []; // newer sessions pushed it out of the recent batch; its prompt is in the due index
    index.due = [ref];
    clock.now = T0 + 10 * 60_000;
    await worker.work(0, lease);
    expect(requests.map((r) => r.intent)).toEqual(['unanswered_question']);
  });

  it('renews the lease before every session and stops the shard once another replica has it', async () => {
    const { worker, index, requests, lease } = setup(beijing);
    index.recent = [ref, { tenantId: 'acme', sessionId: 's2', userId: 'u2' }];
    const answers = [true, true, false]; // s1: before it and after its analysis; s2: lost
    const expiring: ShardLease = { ...lease, check: async () => answers.shift() ?? false };
    await expect(worker.work(0, expiring)).rejects.toThrow(LockLostError);
    expect(requests.map((r) => r.sessionId)).toEqual(['s1']);
    expect(answers).toEqual([]);
  });

  it('does not store an analysis that outlived the lease', async () => {
    const { worker, state, requests, lease } = setup(beijing);
    const answers = [true, false];
    await expect(worker.work(0, { ...lease, check: async () => answers.shift() ?? false })).rejects.toThrow(LockLostError);
    expect(state).toMatchObject({ analysedAt: 0, candidates: [] });
    expect(requests).toEqual([]);
  });

  it('stops the shard when the lock is lost, keeping the prompt', async () => {
    const { worker, state, lease } = setup(beijing, () => 'lock_lost');
    await expect(worker.work(0, lease)).rejects.toThrow(LockLostError);
    expect(state.candidates.map((c) => c.intent)).toEqual(['city_attractions']);
  });
});
