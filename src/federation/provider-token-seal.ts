import { createSealedBox } from '../shared/sealed-box.ts';

/**
 * Upstream tokens at rest: sealed under KEYS_SECRET (every listed secret opens, the newest seals)
 * and bound to the linked identity and the token's kind, so a sealed value copied onto another row,
 * or from the refresh column to the access column, does not open.
 */
export function createProviderTokenSeal(secrets: readonly string[]) {
  const box = createSealedBox(secrets, 'provider-tokens-at-rest');
  const context = (linkedIdentityId: string, kind: 'access' | 'refresh') => `${linkedIdentityId}:${kind}`;
  return {
    seal: (linkedIdentityId: string, kind: 'access' | 'refresh', token: string) =>
      box.seal(context(linkedIdentityId, kind), token),
    open: (linkedIdentityId: string, kind: 'access' | 'refresh', sealed: string) =>
      box.open(context(linkedIdentityId, kind), sealed),
  };
}

export type ProviderTokenSeal = ReturnType<typeof createProviderTokenSeal>;
