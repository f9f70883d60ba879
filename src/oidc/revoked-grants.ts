import type { KeyValueStore } from '../db/key-value.ts';

/**
 * JWT access tokens are self-contained, so revoking their grant (refresh-token reuse, a revoked
 * refresh token, a person revoking an app) cannot delete them. Revoked grant ids are remembered in
 * the shared store for as long as any access token of theirs can live, and the /api guard checks
 * each token's `grant_id` against that list.
 */
export function createGrantRevocations(kv: KeyValueStore, accessTokenTtl: number) {
  const key = (grantId: string) => `grant-revoked:${grantId}`;
  return {
    async markRevoked(grantId: string) {
      await kv.write([{ op: 'set', key: key(grantId), value: '1', ttlSeconds: accessTokenTtl + 60 }]);
    },
    async isRevoked(grantId: string) {
      return (await kv.get(key(grantId))) !== null;
    },
  };
}

export type GrantRevocations = ReturnType<typeof createGrantRevocations>;
