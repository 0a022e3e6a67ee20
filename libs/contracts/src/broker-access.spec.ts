import { brokerRights, probeTopic, SERVICES } from './broker-access.ts';
import { CONSUMER_GROUPS, TOPICS } from './topology.ts';

const rightsOf = (user: string) => brokerRights().find((rights) => rights.user === user)!;
const publishersOf = (topic: string) => brokerRights().filter((rights) => rights.publish.includes(topic)).map((rights) => rights.user).sort();

describe('broker rights derived from the catalogue', () => {
  it('lets only the limiter (and the edges, on the limiter\'s script) admit requests and only the intent-scheduler push to users', () => {
    expect(publishersOf(TOPICS.aiInference.name)).toEqual(['access', 'rate-limiter', 'rtc-push']);
    expect(publishersOf(TOPICS.rtcPush.name)).toEqual(['intent-scheduler']);
    expect(publishersOf(TOPICS.aiRequest.name)).toEqual(['access', 'rtc-push']);
  });

  it('gives a change-data-capture producer kb-change and nothing else', () => {
    expect(rightsOf('cdc')).toEqual({ user: 'cdc', publish: [TOPICS.kbChange.name], subscribe: { topics: [], groups: [] } });
  });

  it('gives every consumer group to exactly one service, inference with all its lanes', () => {
    const owners = (group: string) => brokerRights().filter((rights) => rights.subscribe.groups.includes(group)).map((rights) => rights.user);
    for (const group of Object.values(CONSUMER_GROUPS)) expect({ group: group.name, owners: owners(group.name) }).toEqual({ group: group.name, owners: [expect.any(String)] });
    expect(owners(CONSUMER_GROUPS.rateLimiter.name)).toEqual(['rate-limiter']);
    expect(owners(CONSUMER_GROUPS.rtcPush.name)).toEqual(['rtc-push']);
    expect(rightsOf('inference').subscribe.groups).toHaveLength(1 + CONSUMER_GROUPS.inference.lanes);
    // access consumes only the lifecycle events that end requests, for the usage ledger.
    expect(rightsOf('access').subscribe).toEqual({ topics: ['ai-lifecycle'], groups: ['usage-ledger'] });
  });

  it('probes each service through a topic of its own, and unknown sources through the lifecycle topic', () => {
    for (const service of SERVICES) {
      const rights = rightsOf(service);
      expect([...rights.publish, ...rights.subscribe.topics]).toContain(probeTopic(service));
    }
    expect(probeTopic('some-test')).toBe(TOPICS.aiLifecycle.name);
  });
});
