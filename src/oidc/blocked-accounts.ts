import type { KeyValueStore } from '../db/key-value.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { GrantRepository } from './grant.repository.ts';
import type { RevokeGrant } from './grant-revoker.ts';

export const BLOCKED_ACCOUNT_PREFIX = 'account-blocked:';
export const blockedAccountKey = (accountId: string) => BLOCKED_ACCOUNT_PREFIX + accountId;

/**
 * Cuts an account off from what the provider issued it, when the platform owner suspends it or the
 * person deletes it. Every grant is revoked (refresh tokens, opaque access tokens, codes: gone; JWT
 * access tokens: on the revoked-grant list). The account is also remembered in the shared store as
 * blocked, and the /api guard refuses every token whose subject it is (refusal-marks.ts): that closes the moment
 * between listing the grants and an authorization finishing on another instance, whose claims
 * cache (CLAIMS_CACHE_SECONDS) may still hold the account as active. The mark lives as long as any
 * access token issued before it, or within that cache's lifetime after, can.
 */
export function createBlockedAccounts(deps: {
  kv: KeyValueStore;
  grants: GrantRepository;
  revokeGrant: RevokeGrant;
  accessTokenTtl: number;
  claimsCacheSeconds: number;
}) {
  const key = blockedAccountKey;
  const ttlSeconds = deps.accessTokenTtl + deps.claimsCacheSeconds + 60;
  return {
    /** Marks the account blocked and revokes its grants, each published with `cause`; how many were revoked. */
    async block(accountId: string, cause: GrantRevocationCause): Promise<number> {
      await deps.kv.write([{ op: 'set', key: key(accountId), value: '1', ttlSeconds }]);
      const grants = await deps.grants.findByAccount(accountId);
      for (const grant of grants) await deps.revokeGrant(grant.id, cause);
      return grants.length;
    },
    /** Lifts the mark; the revoked grants stay revoked. */
    async unblock(accountId: string): Promise<void> {
      await deps.kv.del(key(accountId));
    },
  };
}

export type BlockedAccounts = ReturnType<typeof createBlockedAccounts>;
