import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are 256 random bits, so a single SHA-256 is as strong as any password KDF here and
 * costs microseconds per token request.
 */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

// The one-shot hash: createHash builds a stream-capable Hash object per call, which cost a client
// credentials request more than the SHA-256 itself.
export function hashClientSecret(secret: string): string {
  return hash('sha256', secret, 'base64url');
}

export function clientSecretMatches(storedHash: string, presented: string): boolean {
  const expected = Buffer.from(storedHash);
  const actual = Buffer.from(hashClientSecret(presented));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
