import type { BeforeApplicationShutdown, FactoryProvider, InjectionToken, OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appMetrics } from './app.metrics.ts';
import { LOGGER } from './tokens.ts';

export interface VersionedDocument<T = unknown> {
  version: number;
  body: T;
}

/** One version in a document's history: `body` null is a deletion (back to the start-up settings). */
export interface DocumentVersion<T = unknown> extends VersionedDocument<T | null> {
  /** When it was written (ISO 8601). */
  at: string;
}

/** Versions kept per document: enough to roll back a bad week of changes, bounded in Redis. */
export const HISTORY_LENGTH = 100;

// One script: concurrent writers cannot leave a lower version stored after a higher one, nor a
// history out of step with the document in force.
const PUT_LUA = `
local version = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], '{"version":' .. version .. ',"body":' .. ARGV[1] .. '}')
redis.call('LPUSH', KEYS[3], '{"version":' .. version .. ',"at":"' .. ARGV[2] .. '","body":' .. ARGV[1] .. '}')
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)
return version
`;

/**
 * Run-time configuration documents (model routing, word lists, ...) in Redis, versioned. Every
 * instance watches the version (one GET per second) and reloads on change, so a change reaches all
 * replicas within a second without restarts — a broadcast the proxy cannot give us without a
 * pre-created consumer group per instance. The `config.*.changed` events access publishes are an
 * audit trail, not the propagation (ADR 0020).
 *
 * Every write is kept as a version (the last HISTORY_LENGTH) an operator can list and restore. A
 * deletion is a version too, with a null body: every instance goes back to its start-up settings
 * (`MODEL_ROUTING`, `SENSITIVE_WORDS`, ...) — a document once written no longer overrides them forever.
 */
export class ConfigDocuments {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = '',
  ) {}

  private key(name: string) {
    return `${this.prefix}config:${name}`;
  }

  /** The document in force: undefined when never written, a null body when deleted. */
  async get<T>(name: string): Promise<VersionedDocument<T | null> | undefined> {
    const raw = await this.redis.get(this.key(name));
    return raw ? (JSON.parse(raw) as VersionedDocument<T | null>) : undefined;
  }

  /** Writes a new version; `null` deletes the document (instances go back to their start-up settings). */
  async put<T>(name: string, body: T | null): Promise<VersionedDocument<T | null>> {
    const version = Number(await this.redis.eval(PUT_LUA, 3, `${this.key(name)}:version`, this.key(name), `${this.key(name)}:history`, JSON.stringify(body), new Date().toISOString(), HISTORY_LENGTH));
    return { version, body };
  }

  /** The versions kept, newest first. */
  async history<T>(name: string): Promise<DocumentVersion<T>[]> {
    return (await this.redis.lrange(`${this.key(name)}:history`, 0, -1)).map((raw) => JSON.parse(raw) as DocumentVersion<T>);
  }

  /** One kept version, or undefined when it was never written or is older than the history keeps. */
  async version<T>(name: string, version: number): Promise<DocumentVersion<T> | undefined> {
    return (await this.history<T>(name)).find((entry) => entry.version === version);
  }

  /**
   * Calls `apply` with the current document now and with every newer version (a deletion as a null
   * body), checking every `intervalMs`; `catchUp()` checks at once (and settles when any newer
   * version is applied).
   */
  watch<T>(name: string, apply: (document: VersionedDocument<T | null>) => void | Promise<void>, intervalMs = 1_000, onError?: (error: unknown) => void): Watching {
    let seen = 0;
    // One check at a time: a catch-up during a periodic check waits for that one, then checks again.
    let running: Promise<void> = Promise.resolve();
    const once = async () => {
      try {
        const document = await this.get<T>(name);
        if (document && document.version > seen) {
          await apply(document);
          seen = document.version;
        }
      } catch (error) {
        onError?.(error);
      }
    };
    const check = () => (running = running.then(once));
    void check();
    const timer = setInterval(() => void check(), intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer), catchUp: check };
  }
}

/** A document being watched. */
export interface Watching {
  stop(): void;
  /** Applies a newer version now, if there is one, rather than at the next periodic check. */
  catchUp(): Promise<void>;
}

/** What applying one version of a document did, for the log line (e.g. the models now served). */
export type AppliedDetails = Record<string, unknown> | void;

/**
 * A run-time document kept applied while the app runs: the current version at start, then every
 * newer one within a second; stopped before the app's connections close. An invalid version is
 * logged and counted and the previous one stays in force. Made by `documentWatch`: the one way an
 * app follows a document.
 */
export class DocumentWatch implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private watching: Watching | undefined;

  constructor(
    private readonly documents: ConfigDocuments,
    readonly name: string,
    private readonly apply: (body: unknown, version: number) => AppliedDetails | Promise<AppliedDetails>,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  onApplicationBootstrap(): void {
    this.watching = this.documents.watch(
      this.name,
      async ({ body, version }) => {
        const details = await this.apply(body, version);
        this.logger.info({ document: this.name, version, ...details }, 'configuration document applied');
      },
      this.intervalMs,
      (error) => {
        appMetrics.configErrors.inc({ document: this.name });
        this.logger.warn({ document: this.name, err: String(error) }, 'could not apply a configuration document: the previous version stays');
      },
    );
  }

  /**
   * Applies the newest version now if it is newer than the one in force: for a caller that meets a
   * name the document may have just gained (a model alias added a moment ago) before answering 404.
   */
  async catchUp(): Promise<void> {
    await this.watching?.catchUp();
  }

  beforeApplicationShutdown(): void {
    this.watching?.stop();
  }
}

/**
 * A provider that keeps the document `name` applied: `apply` gets the providers named in `inject`
 * and returns what to do with each version's body (throw to refuse it; null: the document was
 * deleted, go back to the start-up settings).
 */
export function documentWatch<const Tokens extends readonly InjectionToken[]>(
  name: string,
  inject: Tokens,
  // Each provider's type is the caller's to name (`(catalog: ModelCatalog) => ...`): tokens do not carry one.
  apply: (...providers: { [K in keyof Tokens]: never }) => (body: unknown, version: number) => AppliedDetails | Promise<AppliedDetails>,
  /** The watch's own token, for a provider that needs its `catchUp` (ROUTING_WATCH). */
  provide: InjectionToken = Symbol(`document watch: ${name}`),
): FactoryProvider<DocumentWatch> {
  return {
    provide,
    inject: [ConfigDocuments, LOGGER, ...inject],
    useFactory: (documents: ConfigDocuments, logger: Logger, ...providers: unknown[]) => new DocumentWatch(documents, name, apply(...(providers as unknown as { [K in keyof Tokens]: never })), logger),
  };
}
