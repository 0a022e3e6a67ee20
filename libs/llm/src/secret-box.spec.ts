import { isSealed, SealedSecretError, SecretBox } from './secret-box.ts';

describe('SecretBox', () => {
  const box = new SecretBox('a-key-of-at-least-32-characters-0123');

  it('seals a secret so the stored text does not contain it, and opens it again', () => {
    const sealed = box.seal('sk-live-0123456789abcdef');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('sk-live');
    expect(box.open(sealed)).toBe('sk-live-0123456789abcdef');
  });

  it('gives the same secret a different sealed text each time (a fresh nonce), and never seals twice', () => {
    const first = box.seal('same');
    expect(box.seal('same')).not.toBe(first);
    expect(box.seal(first)).toBe(first);
  });

  it('refuses a changed value, a value cut short, and another key', () => {
    const sealed = box.seal('sk-live-0123456789abcdef');
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    expect(() => box.open(flipped)).toThrow(SealedSecretError);
    expect(() => box.open('sealed:v1:AAAA')).toThrow(SealedSecretError);
    expect(() => new SecretBox('another-key-of-at-least-32-characters').open(sealed)).toThrow(SealedSecretError);
  });

  it('reads a secret stored before sealing was turned on as it is', () => {
    expect(box.open('sk-plain')).toBe('sk-plain');
  });

  it('refuses a short key', () => {
    expect(() => new SecretBox('short')).toThrow('at least 32 characters');
  });
});
