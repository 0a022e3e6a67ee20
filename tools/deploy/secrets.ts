// Writes deploy/compose/.env with a random value for every secret the compose file asks for: the
// admin token, the key that seals provider secrets at rest, the broker's admin secret and one
// broker secret per service user. Values already in
// the file are kept, so running it again never locks a running broker out.
//   npm run deploy:secrets
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerRights } from '@aip/contracts';
import { brokerSecretVariable } from './topology-script.ts';

export const COMPOSE_ENV_PATH = 'deploy/compose/.env';

/** Every variable the compose file needs a secret for. */
export const composeSecretVariables = (): string[] => ['ADMIN_TOKEN', 'CONFIG_ENCRYPTION_KEY', 'ROCKETMQ_ADMIN_SECRET', ...brokerRights().map(({ user }) => brokerSecretVariable(user))];

/** `current` (the text of an .env file) with a fresh random value for each missing variable. */
export function withSecrets(current: string, variables: readonly string[] = composeSecretVariables()): { text: string; added: string[] } {
  const present = new Set(current.split('\n').map((line) => /^\s*([A-Z0-9_]+)\s*=/.exec(line)?.[1]).filter(Boolean));
  const added = variables.filter((name) => !present.has(name));
  const lines = added.map((name) => `${name}=${randomBytes(24).toString('hex')}`);
  const prefix = current === '' || current.endsWith('\n') ? current : `${current}\n`;
  return { text: prefix + lines.map((line) => `${line}\n`).join(''), added };
}

if (import.meta.main) {
  const file = join(import.meta.dirname, '..', '..', COMPOSE_ENV_PATH);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Secrets of deploy/compose (npm run deploy:secrets). Never commit this file.\n';
  const { text, added } = withSecrets(current);
  writeFileSync(file, text, { mode: 0o600 });
  console.log(added.length > 0 ? `${COMPOSE_ENV_PATH}: added ${added.join(', ')}` : `${COMPOSE_ENV_PATH}: every secret already set`);
}
