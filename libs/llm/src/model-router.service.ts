import type { Logger } from 'pino';
import type { ChatModelPort } from './chat-model.port.ts';
import type { CooldownStore } from './cooldown.store.ts';
import { ExtractiveResponder } from './extractive.adapter.ts';
import { FallbackChain, type CooldownPolicy } from './fallback-chain.service.ts';
import { DEFAULT_MODEL_ROUTING, modelRoutingSchema, type ModelProviderConfig, type ModelRoutingConfig } from './model-routing.schema.ts';
import { OpenAICompatibleAdapter } from './openai-compatible.adapter.ts';
import { UnknownModelError } from './unknown-model.error.ts';

export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface ModelRouterOptions {
  /** Cooldowns shared by all workers; without them failures still fall back but are not remembered. */
  cooldowns?: CooldownStore;
  cooldownMs?: Partial<CooldownPolicy>;
  logger?: Pick<Logger, 'warn'>;
  /** Builds the port of one provider; replaceable in tests. */
  createPort?: (provider: ModelProviderConfig) => ChatModelPort;
}

function defaultPort(provider: ModelProviderConfig): ChatModelPort {
  if (provider.kind === 'extractive') return new ExtractiveResponder({ name: provider.name });
  return new OpenAICompatibleAdapter({
    name: provider.name,
    baseUrl: provider.baseUrl,
    model: provider.model,
    ...(provider.apiKey !== undefined ? { apiKey: provider.apiKey } : {}),
    ...(provider.headers !== undefined ? { headers: provider.headers } : {}),
    images: provider.capabilities?.includes('images') ?? false,
  });
}

/**
 * Model alias → FallbackChain, built from a routing document. `update()` builds the new chains
 * first and swaps the whole map in one assignment, so a request sees the old routing or the new
 * one, never a mix; streams already running finish on the chain they started with.
 */
export class ModelRouter {
  private chains: ReadonlyMap<string, FallbackChain>;
  private config: ModelRoutingConfig;
  /** The routing the app started with (MODEL_ROUTING), in force again when the routing document is deleted. */
  readonly startup: ModelRoutingConfig;
  private readonly cooldowns: CooldownStore | undefined;
  private readonly options: ModelRouterOptions;

  /** `config` is validated with modelRoutingSchema (a ZodError when invalid); default: only `extractive`. */
  constructor(config: unknown = DEFAULT_MODEL_ROUTING, options: ModelRouterOptions = {}) {
    this.options = options;
    this.cooldowns = options.cooldowns;
    this.config = modelRoutingSchema.parse(config);
    this.startup = this.config;
    this.chains = this.build(this.config);
  }

  /** The chain for a model alias; UnknownModelError when it is not configured. */
  resolve(alias: string): FallbackChain {
    const chain = this.chains.get(alias);
    if (!chain) throw new UnknownModelError(alias, this.aliases());
    return chain;
  }

  has(alias: string): boolean {
    return this.chains.has(alias);
  }

  /** Configured aliases in document order (GET /v1/models). */
  aliases(): string[] {
    return [...this.chains.keys()];
  }

  /** The validated routing document in force. */
  current(): ModelRoutingConfig {
    return this.config;
  }

  /**
   * Replaces the routing. Throws (and keeps the old routing) when the document is invalid. The swap
   * is synchronous; the returned promise settles once the cooldowns of providers whose definition
   * changed (a new key after an auth failure, a new URL) have been lifted.
   */
  async update(config: unknown): Promise<void> {
    const next = modelRoutingSchema.parse(config);
    const chains = this.build(next);
    const before = this.definitions(this.config);
    this.config = next;
    this.chains = chains;
    if (!this.cooldowns) return;
    const changed = [...this.definitions(next)].filter(([name, definition]) => before.has(name) && before.get(name) !== definition).map(([name]) => name);
    await Promise.all(
      changed.map((name) =>
        this.cooldowns?.clear(name).catch((error: unknown) => this.options.logger?.warn({ err: error, provider: name }, 'could not clear LLM cooldown')),
      ),
    );
  }

  private definitions(config: ModelRoutingConfig): Map<string, string> {
    const out = new Map<string, string>();
    for (const model of Object.values(config.models)) for (const provider of model.providers) out.set(provider.name, JSON.stringify(provider));
    return out;
  }

  private build(config: ModelRoutingConfig): ReadonlyMap<string, FallbackChain> {
    const createPort = this.options.createPort ?? defaultPort;
    const chains = new Map<string, FallbackChain>();
    for (const [alias, model] of Object.entries(config.models)) {
      chains.set(
        alias,
        new FallbackChain({
          name: alias,
          providers: model.providers.map((provider) => ({
            port: createPort(provider),
            firstTokenTimeoutMs: provider.firstTokenTimeoutMs ?? DEFAULT_FIRST_TOKEN_TIMEOUT_MS,
            idleTimeoutMs: provider.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
            ...(provider.weight !== undefined ? { weight: provider.weight } : {}),
          })),
          ...(model.sticky ? { sticky: true } : {}),
          ...(this.cooldowns ? { cooldowns: this.cooldowns } : {}),
          ...(this.options.cooldownMs ? { cooldownMs: this.options.cooldownMs } : {}),
          ...(this.options.logger ? { logger: this.options.logger } : {}),
        }),
      );
    }
    return chains;
  }
}
