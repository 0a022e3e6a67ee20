import type { BeforeApplicationShutdown, FactoryProvider, InjectionToken, OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { appMetrics } from './app.metrics.ts';
import { LOGGER } from './tokens.ts';

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
 * pre-created consumer group per instance. The `config.*.changed` events access publishes are an
 * audit trail, not the propagation (ADR 0020).
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

/** What applying one version of a document did, for the log line (e.g. the models now served). */
export type AppliedDetails = Record<string, unknown> | void;

/**
 * A run-time document kept applied while the app runs: the current version at start, then every
 * newer one within a second; stopped before the app's connections close. An invalid version is
 * logged and counted and the previous one stays in force. Made by `documentWatch`: the one way an
 * app follows a document.
 */
export class DocumentWatch implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stop: (() => void) | undefined;

  constructor(
    private readonly documents: ConfigDocuments,
    readonly name: string,
    private readonly apply: (body: unknown, version: number) => AppliedDetails | Promise<AppliedDetails>,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  onApplicationBootstrap(): void {
    this.stop = this.documents.watch(
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

  beforeApplicationShutdown(): void {
    this.stop?.();
  }
}

/**
 * A provider that keeps the document `name` applied: `apply` gets the providers named in `inject`
 * and returns what to do with each version's body (throw to refuse it).
 */
export function documentWatch<const Tokens extends readonly InjectionToken[]>(
  name: string,
  inject: Tokens,
  // Each provider's type is the caller's to name (`(catalog: ModelCatalog) => ...`): tokens do not carry one.
  apply: (...providers: { [K in keyof Tokens]: never }) => (body: unknown, version: number) => AppliedDetails | Promise<AppliedDetails>,
): FactoryProvider<DocumentWatch> {
  return {
    provide: Symbol(`document watch: ${name}`),
    inject: [ConfigDocuments, LOGGER, ...inject],
    useFactory: (documents: ConfigDocuments, logger: Logger, ...providers: unknown[]) => new DocumentWatch(documents, name, apply(...(providers as unknown as { [K in keyof Tokens]: never })), logger),
  };
}
