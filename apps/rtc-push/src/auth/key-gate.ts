import type { ServerFrame } from '@aip/contracts';
import type { Logger } from 'pino';
import { TooManyConnectionsError } from '../delivery/delivery.hub.ts';
import { AuthError, type Authenticator, type Identity, type Invalidation } from './authenticator.ts';

export interface KeyGateOptions {
  /** Connections (WebSocket and SSE streams) one API key holds open on this instance, its tokens' included. */
  maxConnectionsPerKey: number;
  /** Chats (socket and `POST /v1/chat`) running at once per API key on this instance. */
  maxChatsPerKey: number;
  /** Chats running at once per user on this instance, whatever the transport. */
  maxChatsPerUser: number;
  /** How often open connections and chats are checked against their key and token. */
  revalidateMs: number;
}

/** Something a key holds open; `release` (idempotent) gives its slot back. */
export interface Lease {
  release(): void;
}

class Hold implements Lease {
  private released = false;

  constructor(
    readonly identity: Identity,
    readonly onInvalid: ((reason: Invalidation) => void) | undefined,
    private readonly onRelease: (hold: Hold) => void,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
  }
}

/** What a client is told before its connection is closed with 4401 (or its chat ended) by revalidation. */
export const invalidationFrame = (reason: Invalidation, ref?: string): ServerFrame => ({
  type: 'error',
  code: 'unauthorized',
  message: reason === 'expired' ? 'the realtime token expired; reconnect with a new one' : 'the API key was revoked',
  ...(ref ? { ref } : {}),
});

const userOf = (identity: Identity) => `${identity.tenantId}\u0000${identity.userId}`;

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

/**
 * What one API key (with the realtime tokens issued from it) may hold open on this instance, and
 * whether it still may: caps on connections per key and on running chats per key and per user,
 * and a periodic check of everything open — a connection whose token expired or whose key was
 * revoked is closed (4401), a running chat aborted. The per-user connection cap stays in the
 * DeliveryHub; these caps stop a key holder from multiplying it by naming new users.
 */
export class KeyGate {
  private readonly connections = new Map<string, number>();
  private readonly chatsByKey = new Map<string, number>();
  private readonly chatsByUser = new Map<string, number>();
  /** Holds still checked by `revalidate` (an invalidated one leaves this set; its slot stays taken until released). */
  private readonly watched = new Set<Hold>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly auth: Pick<Authenticator, 'revalidate'>,
    private readonly options: KeyGateOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.revalidate(), this.options.revalidateMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes a connection slot of the key; throws TooManyConnectionsError when the key has none left. */
  connect(identity: Identity, onInvalid: (reason: Invalidation) => void): Lease {
    const key = identity.key.id;
    if ((this.connections.get(key) ?? 0) >= this.options.maxConnectionsPerKey) {
      throw new TooManyConnectionsError(`at most ${this.options.maxConnectionsPerKey} connections at once per API key`);
    }
    bump(this.connections, key, 1);
    return this.hold(identity, onInvalid, () => bump(this.connections, key, -1));
  }

  /** Takes a chat slot of the key and of the user, or says why there is none. */
  chat(identity: Identity, onInvalid?: (reason: Invalidation) => void): Lease | { refused: string } {
    const key = identity.key.id;
    const user = userOf(identity);
    if ((this.chatsByKey.get(key) ?? 0) >= this.options.maxChatsPerKey) return { refused: `at most ${this.options.maxChatsPerKey} chats at once per API key` };
    if ((this.chatsByUser.get(user) ?? 0) >= this.options.maxChatsPerUser) return { refused: `at most ${this.options.maxChatsPerUser} chats at once per user` };
    bump(this.chatsByKey, key, 1);
    bump(this.chatsByUser, user, 1);
    return this.hold(identity, onInvalid, () => {
      bump(this.chatsByKey, key, -1);
      bump(this.chatsByUser, user, -1);
    });
  }

  /** One pass over everything open: one key look-up per key (cached for two seconds), none for an expired token. */
  async revalidate(now = Date.now()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const verdicts = new Map<string, Promise<Invalidation | undefined | 'unknown'>>();
      const verdict = (identity: Identity) => {
        if (identity.expiresAt !== undefined && identity.expiresAt <= now) return Promise.resolve('expired' as const);
        const id = `${identity.key.id}\u0000${identity.tenantId}`;
        let found = verdicts.get(id);
        if (!found) {
          found = this.auth.revalidate({ ...identity, expiresAt: undefined }, now).catch((error: unknown) => {
            if (!(error instanceof AuthError)) this.logger.warn({ err: String(error) }, 'revalidation failed');
            return 'unknown' as const; // the key store is down: an outage is not a revocation
          });
          verdicts.set(id, found);
        }
        return found;
      };
      for (const hold of [...this.watched]) {
        const reason = await verdict(hold.identity);
        if (reason !== 'expired' && reason !== 'revoked') continue;
        this.watched.delete(hold);
        try {
          hold.onInvalid?.(reason);
        } catch (error) {
          this.logger.warn({ err: String(error) }, 'closing an invalidated connection failed');
        }
      }
    } finally {
      this.sweeping = false;
    }
  }

  private hold(identity: Identity, onInvalid: ((reason: Invalidation) => void) | undefined, free: () => void): Lease {
    const hold = new Hold(identity, onInvalid, (released) => {
      this.watched.delete(released);
      free();
    });
    if (onInvalid) this.watched.add(hold);
    return hold;
  }
}
