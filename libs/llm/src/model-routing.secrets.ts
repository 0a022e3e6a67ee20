import type { ModelRoutingConfig } from './model-routing.schema.ts';
import { isSealed, SealedSecretError, type SecretBox } from './secret-box.ts';

/** What a provider secret reads as once redacted: the marker and the secret's last four characters. */
const REDACTED = /^<redacted(?::…(.{1,4}))?>$/s;

const redact = (secret: string) => (secret.length >= 12 ? `<redacted:…${secret.slice(-4)}>` : '<redacted>');

/** Whether `value` is what {@link redactRoutingSecrets} shows instead of a secret. */
export const isRedacted = (value: string) => REDACTED.test(value);

/** The routing document with `change` applied to each provider's `apiKey` and header values (which carry keys too). */
function mapRoutingSecrets(routing: ModelRoutingConfig, change: (secret: string) => string): ModelRoutingConfig {
  const models: ModelRoutingConfig['models'] = {};
  for (const [alias, model] of Object.entries(routing.models)) {
    models[alias] = {
      providers: model.providers.map((provider) => {
        if (provider.kind !== 'openai-compatible') return provider;
        return {
          ...provider,
          ...(provider.apiKey !== undefined ? { apiKey: change(provider.apiKey) } : {}),
          ...(provider.headers ? { headers: Object.fromEntries(Object.entries(provider.headers).map(([name, value]) => [name, change(value)])) } : {}),
        };
      }),
    };
  }
  return { ...routing, models };
}

/**
 * The routing document as the admin API shows it: each provider's `apiKey` and header values
 * (`Authorization`, `api-key`) replaced by `<redacted:…last4>`, so a provider's keys never leave
 * the platform once stored — not in a response, not in a log line of a client that prints it.
 */
export const redactRoutingSecrets = (routing: ModelRoutingConfig): ModelRoutingConfig => mapRoutingSecrets(routing, redact);

/** The routing document as it is stored: provider secrets sealed when a box is configured. */
export const sealRoutingSecrets = (routing: ModelRoutingConfig, box: SecretBox | undefined): ModelRoutingConfig =>
  box ? mapRoutingSecrets(routing, (secret) => box.seal(secret)) : routing;

/**
 * The stored routing document with its provider secrets opened; a sealed secret without a box
 * throws {@link SealedSecretError} (the document was written with CONFIG_ENCRYPTION_KEY set).
 */
export const openRoutingSecrets = (routing: ModelRoutingConfig, box: SecretBox | undefined): ModelRoutingConfig =>
  mapRoutingSecrets(routing, (secret) => {
    if (box) return box.open(secret);
    if (isSealed(secret)) throw new SealedSecretError('the routing document holds sealed provider secrets: set CONFIG_ENCRYPTION_KEY (the key access sealed them with)');
    return secret;
  });

/** A redacted value in a new document that names no stored secret to keep. */
export class UnknownRedactedSecretError extends Error {
  override readonly name = 'UnknownRedactedSecretError';
  readonly path: string;
  // No parameter property: Node's type stripping runs this file as it is (tools/bench).
  constructor(path: string) {
    super(`${path} is a redacted value, and the stored document has no secret there to keep: send the secret itself`);
    this.path = path;
  }
}

/**
 * A new routing document with every redacted value (as {@link redactRoutingSecrets} showed it)
 * replaced by the secret stored at the same place — same model alias, provider name and header —
 * so an operator can GET, edit and PUT the document back without re-entering keys. A redacted
 * value with no stored secret there throws {@link UnknownRedactedSecretError}.
 */
export function keepStoredSecrets(next: ModelRoutingConfig, stored: ModelRoutingConfig | undefined): ModelRoutingConfig {
  const models: ModelRoutingConfig['models'] = {};
  for (const [alias, model] of Object.entries(next.models)) {
    models[alias] = {
      providers: model.providers.map((provider, index) => {
        if (provider.kind !== 'openai-compatible') return provider;
        const before = stored && Object.hasOwn(stored.models, alias) ? stored.models[alias]!.providers.find((p) => p.name === provider.name) : undefined;
        const previous = before?.kind === 'openai-compatible' ? before : undefined;
        const keep = (value: string, old: string | undefined, path: string) => {
          if (!isRedacted(value)) return value;
          if (old === undefined || redact(old) !== value) throw new UnknownRedactedSecretError(path);
          return old;
        };
        const path = `models.${alias}.providers.${index}`;
        return {
          ...provider,
          ...(provider.apiKey !== undefined ? { apiKey: keep(provider.apiKey, previous?.apiKey, `${path}.apiKey`) } : {}),
          ...(provider.headers
            ? { headers: Object.fromEntries(Object.entries(provider.headers).map(([name, value]) => [name, keep(value, previous?.headers && Object.hasOwn(previous.headers, name) ? previous.headers[name] : undefined, `${path}.headers.${name}`)])) }
            : {}),
        };
      }),
    };
  }
  return { ...next, models };
}
