import { baseEnvSchema, loadEnv } from './env.config.ts';

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
