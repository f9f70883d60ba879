import type Provider from 'oidc-provider';
import { takeDeletedGrant } from './adapter.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { PublishGrantRevoked } from './grant-revocation-events.ts';

/**
 * Revokes a grant the way oidc-provider does when a refresh token is reused: every token issued
 * under it (refresh tokens, opaque access tokens, codes not yet redeemed, device codes), then the
 * grant itself, so the app must ask the person again. `onGrantRevoked` covers what deleting cannot:
 * JWT access tokens live on until they expire, so /api must learn the grant is gone (revoked-grants.ts).
 *
 * With a cause, the revocation is published (grant.revoked) when this call is the one that deleted
 * the grant; without one the caller publishes it (the account page's disconnect, with its audit row).
 * True when this call deleted the grant.
 */
export function createGrantRevoker(deps: {
  provider: () => Provider;
  onGrantRevoked(grantId: string): Promise<void>;
  publish: PublishGrantRevoked;
}) {
  return async function revokeGrant(grantId: string, cause?: GrantRevocationCause): Promise<boolean> {
    const provider = deps.provider();
    // First, so that /api refuses the grant's JWTs even if deleting the rest fails halfway.
    await deps.onGrantRevoked(grantId);
    await Promise.all(
      [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode, provider.DeviceCode].map((model) =>
        model.revokeByGrantId(grantId),
      ),
    );
    // By id, as oidc-provider's own revoke helper does: the grant is marked revoked by now, and a
    // lookup through its copy (adapter.ts, GrantCopyAdapter) would find nothing left to delete. Only
    // the call whose DELETE removed the row learns whose it was.
    await provider.Grant.adapter.destroy(grantId);
    const owner = takeDeletedGrant(grantId);
    if (owner && cause) await deps.publish({ grantId, ...owner }, cause);
    return owner !== undefined;
  };
}

export type RevokeGrant = ReturnType<typeof createGrantRevoker>;
