import { createHash } from 'node:crypto';
import { realtimeTokenKey } from '@aip/contracts';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';
import type { Redis } from 'ioredis';
import { AuthError, Authenticator } from './authenticator.ts';

const key: ApiKeyRecord = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-abcd' };
const token = `rtt_${'a'.repeat(43)}`;

function setup(options: { keysDown?: boolean; revoked?: boolean; claims?: object } = {}) {
  const lookups: string[] = [];
  const keys = {
    authenticate: async (secret: string) => {
      lookups.push(`secret:${secret}`);
      if (options.keysDown) throw new Error('ECONNREFUSED');
      return secret === 'sk-aip-good' ? key : undefined;
    },
    byId: async (id: string) => {
      lookups.push(`id:${id}`);
      if (options.keysDown) throw new Error('ECONNREFUSED');
      return id === key.id ? { ...key, status: options.revoked ? 'revoked' : 'active' } : undefined;
    },
  } as unknown as ApiKeyStore;
  const stored = new Map([[realtimeTokenKey('p:', createHash('sha256').update(token).digest('hex')), JSON.stringify(options.claims ?? { tenantId: 'acme', keyId: 'k1', userId: 'u1', expiresAt: Date.now() + 60_000 })]]);
  const redis = { get: async (name: string) => stored.get(name) ?? null } as unknown as Redis;
  return { lookups, auth: new Authenticator(keys, redis, 'p:') };
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as AuthError);

describe('Authenticator', () => {
  it('accepts an API key with a user, and asks the key store once for repeated connections', async () => {
    const { auth, lookups } = setup();
    for (let i = 0; i < 2; i++) expect(await auth.authenticate({ authorization: 'Bearer sk-aip-good', user: 'u1' })).toMatchObject({ tenantId: 'acme', userId: 'u1', via: 'api-key' });
    expect(lookups).toEqual(['secret:sk-aip-good']);
  });

  it('refuses an unknown key, a key without a user and no credentials as unauthorized', async () => {
    const { auth } = setup();
    for (const credentials of [{ authorization: 'Bearer sk-aip-bad', user: 'u1' }, { authorization: 'Bearer sk-aip-good' }, {}]) {
      expect(await failure(auth.authenticate(credentials))).toMatchObject({ name: 'AuthError', code: 'unauthorized' });
    }
  });

  it('answers "unavailable" (not "unauthorized") when the key store is down', async () => {
    const { auth } = setup({ keysDown: true });
    expect(await failure(auth.authenticate({ authorization: 'Bearer sk-aip-good', user: 'u1' }))).toMatchObject({ code: 'unavailable' });
    expect(await failure(auth.authenticate({ token }))).toMatchObject({ code: 'unavailable' });
  });

  it('accepts a realtime token of an active key and refuses one whose key was revoked', async () => {
    expect(await setup().auth.authenticate({ token })).toMatchObject({ tenantId: 'acme', userId: 'u1', via: 'token' });
    expect(await failure(setup({ revoked: true }).auth.authenticate({ token }))).toMatchObject({ code: 'unauthorized', message: 'the API key of this token was revoked' });
  });

  it('takes a realtime token from the Authorization header too, with the grant stored with its claims', async () => {
    const claims = { tenantId: 'acme', keyId: 'k1', userId: 'u1', expiresAt: Date.now() + 60_000, models: ['extractive'], maxTokens: 200 };
    expect(await setup({ claims }).auth.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({ via: 'token', userId: 'u1', expiresAt: claims.expiresAt, grant: { models: ['extractive'], maxTokens: 200 } });
    // Issued before grants existed: the default cap and the key's models.
    expect((await setup().auth.authenticate({ token })).grant).toEqual({ maxTokens: 1_024 });
  });

  it('revalidates an open connection: expired token, revoked key, or still fine', async () => {
    const { auth } = setup();
    const identity = await auth.authenticate({ token });
    expect(await auth.revalidate(identity)).toBeUndefined();
    expect(await auth.revalidate(identity, identity.expiresAt! + 1)).toBe('expired');
    expect(await setup({ revoked: true }).auth.revalidate(identity)).toBe('revoked');
    expect(await setup({ revoked: true }).auth.revalidate({ ...identity, via: 'api-key', expiresAt: undefined })).toBe('revoked');
    expect(await failure(setup({ keysDown: true }).auth.revalidate(identity))).toMatchObject({ code: 'unavailable' });
  });
});
