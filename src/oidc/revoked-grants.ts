import type { KeyValueStore } from '../db/key-value.ts';

export const REVOKED_GRANT_PREFIX = 'grant-revoked:';
export const revokedGrantKey = (grantId: string) => REVOKED_GRANT_PREFIX + grantId;

/** How long a revoked grant stays marked: a minute past the last access token it can have issued. */
export const revokedGrantSeconds = (accessTokenTtl: number) => accessTokenTtl + 60;

/**
 * JWT access tokens are self-contained, so revoking their grant (refresh-token reuse, a revoked
 * refresh token, a person revoking an app) cannot delete them. Revoked grant ids are remembered in
 * the shared store for as long as any access token of theirs can live, and the /api guard checks
 * each token's `grant_id` against that list (refusal-marks.ts).
 */
export function createGrantRevocations(kv: KeyValueStore, accessTokenTtl: number) {
  return {
    async markRevoked(grantId: string) {
      await kv.write([
        { op: 'set', key: revokedGrantKey(grantId), value: '1', ttlSeconds: revokedGrantSeconds(accessTokenTtl) },
      ]);
    },
  };
}

export type GrantRevocations = ReturnType<typeof createGrantRevocations>;
