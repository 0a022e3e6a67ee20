import type { ApiKeyRecord } from '@aip/keys';
import { pino } from 'pino';
import { TooManyConnectionsError } from '../delivery/delivery.hub.ts';
import { AuthError, type Identity, type Invalidation } from './authenticator.ts';
import { KeyGate } from './key-gate.ts';

const options = { maxConnectionsPerKey: 3, maxChatsPerKey: 3, maxChatsPerUser: 2, revalidateMs: 60_000 };
const as = (user: string, key = 'k1', extra: Partial<Identity> = {}): Identity => ({ tenantId: 'acme', userId: user, key: { id: key, tenantId: 'acme' } as ApiKeyRecord, via: 'api-key', ...extra });

function setup(state: { revoked?: Set<string>; down?: boolean } = {}) {
  const lookups: string[] = [];
  const auth = {
    revalidate: async (identity: Identity): Promise<Invalidation | undefined> => {
      lookups.push(identity.key.id);
      if (state.down) throw new AuthError('key storage (Redis) is unavailable', 'unavailable');
      return state.revoked?.has(identity.key.id) ? 'revoked' : undefined;
    },
  };
  return { gate: new KeyGate(auth, options, pino({ level: 'silent' })), lookups };
}

describe('KeyGate', () => {
  it('caps the connections of one API key however many users it names, and frees a slot on release', () => {
    const { gate } = setup();
    const leases = ['u1', 'u2', 'u3'].map((user) => gate.connect(as(user), () => undefined));
    expect(() => gate.connect(as('u4'), () => undefined)).toThrow(TooManyConnectionsError);
    expect(() => gate.connect(as('u4', 'k2'), () => undefined)).not.toThrow();
    leases[0]!.release();
    leases[0]!.release(); // idempotent: frees one slot, not two
    expect(() => gate.connect(as('u5'), () => undefined)).not.toThrow();
    expect(() => gate.connect(as('u6'), () => undefined)).toThrow(TooManyConnectionsError);
  });

  it('caps running chats per user and per key', () => {
    const { gate } = setup();
    const first = gate.chat(as('u1'));
    gate.chat(as('u1'));
    expect(gate.chat(as('u1'))).toEqual({ refused: 'at most 2 chats at once per user' });
    gate.chat(as('u2'));
    expect(gate.chat(as('u3'))).toEqual({ refused: 'at most 3 chats at once per API key' });
    (first as { release(): void }).release();
    expect(gate.chat(as('u3'))).not.toHaveProperty('refused');
  });

  it('closes what an expired token or a revoked key holds, once, with one look-up per key', async () => {
    const revoked = new Set<string>();
    const { gate, lookups } = setup({ revoked });
    const closed: string[] = [];
    const now = Date.now();
    gate.connect(as('browser', 'k1', { via: 'token', expiresAt: now - 1 }), (reason) => closed.push(`browser ${reason}`));
    gate.connect(as('backend-a', 'k2'), (reason) => closed.push(`a ${reason}`));
    gate.connect(as('backend-b', 'k2'), (reason) => closed.push(`b ${reason}`));
    gate.chat(as('backend-c', 'k2'), (reason) => closed.push(`chat ${reason}`));
    gate.connect(as('other', 'k3'), (reason) => closed.push(`other ${reason}`));
    await gate.revalidate(now);
    expect(closed).toEqual(['browser expired']);
    expect(lookups.sort()).toEqual(['k2', 'k3']);

    revoked.add('k2');
    await gate.revalidate(now);
    expect(closed).toEqual(['browser expired', 'a revoked', 'b revoked', 'chat revoked']);
    await gate.revalidate(now);
    expect(closed).toHaveLength(4);
  });

  it('keeps everything open while the key store cannot answer', async () => {
    const { gate } = setup({ down: true });
    const closed: string[] = [];
    gate.connect(as('u1'), (reason) => closed.push(reason));
    await gate.revalidate();
    expect(closed).toEqual([]);
  });
});
