import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * Signs and checks signed cookies (ours and oidc-provider's) exactly as Keygrip does, HMAC-SHA1 in
 * base64url, the first key signing and every key still accepted, at a third of the cost: Keygrip
 * compares through tsscmp, two more HMACs under a random key per key tried, and turns the key string
 * into a key on every call. A sign-in reads about twenty signed cookies. Equal-length digests are
 * compared in constant time; their length is no secret.
 */
export class CookieSigner {
  readonly #signing: KeyObject;
  readonly #keys: readonly KeyObject[];

  constructor(keys: readonly string[]) {
    const [first, ...rest] = keys.map((key) => createSecretKey(Buffer.from(key)));
    if (!first) throw new Error('cookie signing needs at least one key');
    this.#signing = first;
    this.#keys = [first, ...rest];
  }

  sign(data: string): string {
    return digest(data, this.#signing);
  }

  verify(data: string, signature: string): boolean {
    return this.index(data, signature) > -1;
  }

  /** Which key made `signature` for `data`, or -1 if none did. */
  index(data: string, signature: string): number {
    const given = Buffer.from(String(signature));
    return this.#keys.findIndex((key) => {
      const expected = Buffer.from(digest(data, key));
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }
}

function digest(data: string, key: KeyObject): string {
  return createHmac('sha1', key).update(data).digest('base64url');
}
