import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** A sealed value that does not open: tampered with, bound to another context, or sealed under another secret. */
export class UnsealError extends Error {}

/**
 * AES-256-GCM under a key derived from the deployment's secret for one `purpose`, so a value sealed
 * for one use never opens as another. `context` (a key id, an account id) is bound as associated
 * data: a sealed value copied onto another row does not open there.
 */
export function createSealedBox(secret: string, purpose: string) {
  const key = Buffer.from(hkdfSync('sha256', secret, 'fairyid', purpose, 32));

  return {
    seal(context: string, plaintext: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
    },

    open(context: string, sealed: string): string {
      const [iv, body, tag, extra] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
      if (iv?.length !== 12 || !body || !tag || tag.length !== 16 || extra) throw new UnsealError('not a sealed value');
      const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context)).setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new UnsealError('the sealed value does not open with this secret and context');
      }
    },
  };
}
