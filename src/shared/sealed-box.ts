import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** A sealed value that does not open: tampered with, bound to another context, or sealed under another secret. */
export class UnsealError extends Error {}

/**
 * AES-256-GCM under a key derived from the deployment's secret for one `purpose`, so a value sealed
 * for one use never opens as another. `context` (a key id, an account id) is bound as associated
 * data: a sealed value copied onto another row does not open there.
 *
 * `secrets` may list several, newest first (KEYS_SECRET=new,old while rotating): the newest seals,
 * and a value opens under whichever listed secret sealed it, so a new secret can be put in front
 * without making anything sealed earlier unreadable.
 */
export function createSealedBox(secrets: string | readonly string[], purpose: string) {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new Error('a sealed box needs at least one secret');
  const keys = list.map((secret) => Buffer.from(hkdfSync('sha256', secret, 'fairyid', purpose, 32)));
  const newest = keys[0] as Buffer;

  const openWith = (key: Buffer, context: string, iv: Buffer, body: Buffer, tag: Buffer) => {
    const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context)).setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  };

  return {
    seal(context: string, plaintext: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', newest, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
    },

    open(context: string, sealed: string): string {
      const [iv, body, tag, extra] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
      if (iv?.length !== 12 || !body || !tag || tag.length !== 16 || extra) throw new UnsealError('not a sealed value');
      for (const key of keys) {
        const opened = openWith(key, context, iv, body, tag);
        if (opened !== undefined) return opened;
      }
      throw new UnsealError('the sealed value does not open with these secrets and this context');
    },
  };
}
