import type { KeyValueStore } from '../db/key-value.ts';
import { blockedAccountKey } from './blocked-accounts.ts';

export const revokedGrantKey = (grantId: string) => `grant-revoked:${grantId}`;

/** How long a revoked grant stays marked: a minute past the last access token it can have issued. */
export const revokedGrantSeconds = (accessTokenTtl: number) => accessTokenTtl + 60;

/**
 * JWT access tokens are self-contained, so revoking their grant (refresh-token reuse, a revoked
 * refresh token, a person revoking an app) cannot delete them. Revoked grant ids are remembered in
 * the shared store for as long as any access token of theirs can live, and the /api guard checks
 * each token's `grant_id` against that list.
 */
export function createGrantRevocations(kv: KeyValueStore, accessTokenTtl: number) {
  return {
    async markRevoked(grantId: string) {
      await kv.write([
        { op: 'set', key: revokedGrantKey(grantId), value: '1', ttlSeconds: revokedGrantSeconds(accessTokenTtl) },
      ]);
    },
    async isRevoked(grantId: string) {
      return (await kv.get(revokedGrantKey(grantId))) !== null;
    },
    /**
     * A person's token has two marks to read on every /api request: its grant's (here) and its
     * account's (blocked-accounts.ts). One MGET reads both where the store can: one command costs
     * the Redis client about half the CPU of two, even auto-pipelined into one write.
     */
    async marks(grantId: string, accountId: string): Promise<{ revoked: boolean; blocked: boolean }> {
      const keys = [revokedGrantKey(grantId), blockedAccountKey(accountId)];
      // The two keys lie in different slots: one MGET where the store allows it (KeyValueStore.anySlots).
      const [revoked, blocked] = kv.anySlots
        ? await kv.getMany(keys)
        : await Promise.all(keys.map((key) => kv.get(key)));
      return { revoked: revoked !== null, blocked: blocked !== null };
    },
  };
}

export type GrantRevocations = ReturnType<typeof createGrantRevocations>;
