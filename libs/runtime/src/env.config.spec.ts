import { baseEnvSchema, connectionOf, loadEnv } from './env.config.ts';

describe('TRUST_PROXY', () => {
  const trust = (value?: string) => loadEnv(baseEnvSchema, value === undefined ? {} : { TRUST_PROXY: value }).TRUST_PROXY;

  it('trusts no proxy by default: a client cannot choose its address with X-Forwarded-For', () => {
    expect(trust()).toBe(false);
    expect(trust('false')).toBe(false);
  });

  it('takes a hop count as "believe that many proxies in front of me"', () => {
    const oneHop = trust('1') as (address: string, hop: number) => boolean;
    expect(oneHop('10.0.0.1', 0)).toBe(true);
    expect(oneHop('203.0.113.9', 1)).toBe(false);
  });

  it('passes addresses and CIDRs through, and true as true', () => {
    expect(trust('10.0.0.0/8,127.0.0.1')).toBe('10.0.0.0/8,127.0.0.1');
    expect(trust('true')).toBe(true);
  });
});

describe('ROCKETMQ_NAMESPACE', () => {
  const load = (namespace?: string) => loadEnv(baseEnvSchema, namespace === undefined ? {} : { ROCKETMQ_NAMESPACE: namespace });

  it('is empty by default: the connection carries no namespace and the names of the contracts are used as they are', () => {
    expect(load().ROCKETMQ_NAMESPACE).toBe('');
    expect(connectionOf(load())).not.toHaveProperty('namespace');
  });

  it('goes into the connection, where the transport prefixes every topic and group with it', () => {
    expect(connectionOf(load('it-k3x9-1'))).toMatchObject({ namespace: 'it-k3x9-1' });
  });

  it('refuses what the broker could not take in a name, naming the variable', () => {
    expect(() => load('a.b')).toThrow(/ROCKETMQ_NAMESPACE: letters, digits/);
    expect(() => load('x'.repeat(33))).toThrow(/ROCKETMQ_NAMESPACE: at most 32 characters/);
  });
});

describe('removed topic and group settings', () => {
  it('refuses to start with one set, pointing at ROCKETMQ_NAMESPACE', () => {
    expect(() => loadEnv(baseEnvSchema, { PUSH_TOPIC: 'rtc-push-test', KB_CONSUMER_GROUP: 'kb' })).toThrow(/PUSH_TOPIC, KB_CONSUMER_GROUP: no longer exist.*ROCKETMQ_NAMESPACE/);
  });
});

describe('CONVERSATION_RETENTION_DAYS', () => {
  const retention = (value?: string) => loadEnv(baseEnvSchema, value === undefined ? {} : { CONVERSATION_RETENTION_DAYS: value }).CONVERSATION_RETENTION_DAYS;
  const DAY = 86_400_000;

  it('keeps conversations 30 days by default, for every tenant', () => {
    expect(retention()('acme')).toBe(30 * DAY);
  });

  it('takes exceptions per tenant after the days for everyone', () => {
    const days = retention('14, acme=7,bank=365');
    expect([days('acme'), days('bank'), days('other')]).toEqual([7 * DAY, 365 * DAY, 14 * DAY]);
  });

  it('refuses to start on a value it cannot read, naming it', () => {
    expect(() => retention('forever')).toThrow(/CONVERSATION_RETENTION_DAYS: "forever"/);
    expect(() => retention('30,acme')).toThrow(/"acme": tenant=days/);
    expect(() => retention('30,acme=0')).toThrow(/"acme=0"/);
  });
});
