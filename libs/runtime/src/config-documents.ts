import type { Redis } from 'ioredis';

export interface VersionedDocument<T = unknown> {
  version: number;
  body: T;
}

const PUT_LUA = `
local version = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], '{"version":' .. version .. ',"body":' .. ARGV[1] .. '}')
return version
`;

/**
 * Run-time configuration documents (model routing, word lists, ...) in Redis, versioned. Every
 * instance watches the version (one GET per second) and reloads on change, so a change reaches all
 * replicas within a second without restarts — a broadcast the proxy cannot give us without a
 * pre-created consumer group per instance. The `config-change` event is published as well, for
 * audit and for consumers that want to react.
 */
export class ConfigDocuments {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {}

  private key(name: string) {
    return `${this.prefix}config:${name}`;
  }

  async get<T>(name: string): Promise<VersionedDocument<T> | undefined> {
    const raw = await this.redis.get(this.key(name));
    return raw ? (JSON.parse(raw) as VersionedDocument<T>) : undefined;
  }

  async put<T>(name: string, body: T): Promise<VersionedDocument<T>> {
    // One script: concurrent writers cannot leave a lower version stored after a higher one.
    const version = Number(await this.redis.eval(PUT_LUA, 2, `${this.key(name)}:version`, this.key(name), JSON.stringify(body)));
    return { version, body };
  }

  /** Calls `apply` with the current document now and with every newer version; returns a stop function. */
  watch<T>(name: string, apply: (document: VersionedDocument<T>) => void | Promise<void>, intervalMs = 1_000, onError?: (error: unknown) => void): () => void {
    let seen = 0;
    let busy = false;
    const check = async () => {
      if (busy) return;
      busy = true;
      try {
        const document = await this.get<T>(name);
        if (document && document.version > seen) {
          await apply(document);
          seen = document.version;
        }
      } catch (error) {
        onError?.(error);
      } finally {
        busy = false;
      }
    };
    void check();
    const timer = setInterval(check, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
