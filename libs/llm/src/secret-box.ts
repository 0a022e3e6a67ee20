import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'sealed:v1:';

/** Whether `value` is a secret sealed by a {@link SecretBox} (and not the secret itself). */
export const isSealed = (value: string) => value.startsWith(PREFIX);

/** A sealed value that cannot be opened: no key configured, another key, or a changed value. */
export class SealedSecretError extends Error {
  override readonly name = 'SealedSecretError';
}

/**
 * Seals secrets for storage (AES-256-GCM, a fresh 96-bit nonce per value, authenticated): whoever
 * reads the store without the key reads `sealed:v1:…`, not the secret. The key is the SHA-256 of
 * `CONFIG_ENCRYPTION_KEY` (at least 32 characters, e.g. `openssl rand -hex 32`), kept outside Redis.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('CONFIG_ENCRYPTION_KEY must be at least 32 characters');
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plain: string): string {
    if (isSealed(plain)) return plain;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The secret of a sealed value; anything else (a secret stored before sealing was on) as it is. */
  open(value: string): string {
    if (!isSealed(value)) return value;
    const raw = Buffer.from(value.slice(PREFIX.length), 'base64url');
    if (raw.length < 28) throw new SealedSecretError('a sealed secret is cut short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError('a sealed secret does not open with CONFIG_ENCRYPTION_KEY (another key, or the value was changed)');
    }
  }
}
