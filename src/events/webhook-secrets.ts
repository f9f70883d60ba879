import { randomBytes } from 'node:crypto';
import { createSealedBox } from '../shared/sealed-box.ts';

/**
 * Endpoint secrets are needed in clear to sign, so they are sealed (not hashed) under KEYS_SECRET,
 * bound to their endpoint: a sealed secret copied onto another endpoint's row does not open.
 */
export function createWebhookSecrets(keysSecrets: readonly string[]) {
  const box = createSealedBox(keysSecrets, 'webhook-secret');
  return {
    /** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
    generate: () => `whsec_${randomBytes(24).toString('base64')}`,
    seal: (endpointId: string, secret: string) => box.seal(endpointId, secret),
    open: (endpointId: string, sealed: string) => box.open(endpointId, sealed),
  };
}

export type WebhookSecrets = ReturnType<typeof createWebhookSecrets>;
