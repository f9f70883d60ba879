import type Provider from 'oidc-provider';

/**
 * Revokes a grant the way oidc-provider does when a refresh token is reused: every token issued
 * under it (refresh tokens, opaque access tokens, codes not yet redeemed, device codes), then the
 * grant itself, so the app must ask the person again. `onGrantRevoked` covers what deleting cannot:
 * JWT access tokens live on until they expire, so /api must learn the grant is gone (revoked-grants.ts).
 */
export function createGrantRevoker(deps: { provider: () => Provider; onGrantRevoked(grantId: string): Promise<void> }) {
  return async function revokeGrant(grantId: string): Promise<void> {
    const provider = deps.provider();
    // First, so that /api refuses the grant's JWTs even if deleting the rest fails halfway.
    await deps.onGrantRevoked(grantId);
    await Promise.all(
      [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode, provider.DeviceCode].map((model) =>
        model.revokeByGrantId(grantId),
      ),
    );
    // By id, as oidc-provider's own revoke helper does: the grant is marked revoked by now, and a
    // lookup through its copy (adapter.ts, GrantCopyAdapter) would find nothing left to delete.
    await provider.Grant.adapter.destroy(grantId);
  };
}

export type RevokeGrant = ReturnType<typeof createGrantRevoker>;
