import { createSealedBox, UnsealError } from '../shared/sealed-box.ts';

/** Signing keys at rest: sealed under KEYS_SECRET, each bound to its kid. */
export function createKeyEncryption(secrets: string | readonly string[]) {
  const box = createSealedBox(secrets, 'signing-keys-at-rest');

  return {
    encrypt: (kid: string, plaintext: string): string => box.seal(kid, plaintext),

    decrypt(kid: string, sealed: string): string {
      try {
        return box.open(kid, sealed);
      } catch (error) {
        if (error instanceof UnsealError) {
          throw new Error(`signing key ${kid} cannot be decrypted: is KEYS_SECRET the one it was created with?`);
        }
        throw error;
      }
    },
  };
}
