import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** AES-256-GCM under a key derived from KEYS_SECRET; the kid is bound as associated data. */
export function createKeyEncryption(secret: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, 'fairyid', 'signing-keys-at-rest', 32));

  return {
    encrypt(kid: string, plaintext: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(kid));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
    },

    decrypt(kid: string, sealed: string): string {
      const [iv, body, tag] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
      if (!iv || !body || !tag) throw new Error(`signing key ${kid} is not in the expected sealed format`);
      const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(kid)).setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`signing key ${kid} cannot be decrypted: is KEYS_SECRET the one it was created with?`);
      }
    },
  };
}
