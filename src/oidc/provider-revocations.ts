import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/audit.service.ts';
import type { GrantRevocationReason } from '../events/event-catalog.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { takeDeletedGrant } from './adapter.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { PublishGrantRevoked, RevokedGrant } from './grant-revocation-events.ts';
import { isReuseAudited } from './refresh-grace.ts';

/** Work that must be done before the response goes out (see provider.ts). */
export type Track = (ctx: KoaContextWithOIDC, work: Promise<void>, what: string) => void;

type Deps = {
  log: Logger;
  audit: AuditService;
  onGrantRevoked(grantId: string): Promise<void>;
  publish: PublishGrantRevoked;
};

const REUSED: Record<string, GrantRevocationReason> = {
  refresh_token: 'refresh_token_reused',
  authorization_code: 'authorization_code_reused',
  'urn:ietf:params:oauth:grant-type:device_code': 'device_code_reused',
};

/**
 * The grants oidc-provider revokes itself (lib/helpers/revoke.js): at the token endpoint, when a used
 * refresh token, authorization code or device code comes back (RFC 9700 4.14.2, RFC 6749 4.1.2); at
 * the revocation endpoint, with the refresh token an app revokes (RFC 7009 2.1); at logout, every
 * grant of the session that was not given offline_access. The grant is gone when it says so:
 * whose it was comes from the adapter, which kept the row it deleted, and only the request that
 * deleted it publishes.
 */
export function watchProviderRevocations(provider: Provider, deps: Deps, track: Track) {
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    deps.log.info({ grantId }, 'grant revoked');
    track(ctx, deps.onGrantRevoked(grantId), 'a revoked grant');
    const owner = takeDeletedGrant(grantId);
    if (!owner) return;
    const grant: RevokedGrant = { grantId, ...owner };
    const reused = ctx.oidc.route === 'token' ? REUSED[String(ctx.oidc.params?.grant_type)] : undefined;
    track(ctx, deps.publish(grant, causeOf(ctx, grant, reused)), "a revoked grant's event");
    if (reused) track(ctx, auditReuse(ctx, grant, reused), 'a reused token');
  });

  /**
   * A reuse is news to the person: their app was cut off because something of it was used twice.
   * refresh-grace.ts has audited the reuses it saw (its window, another client or key); these are the others.
   */
  async function auditReuse(ctx: KoaContextWithOIDC, grant: RevokedGrant, reason: GrantRevocationReason) {
    if (reason === 'refresh_token_reused' && isReuseAudited(ctx)) return;
    await deps.audit.record({
      event: reason === 'refresh_token_reused' ? 'refresh_token_reused' : 'code_reused',
      outcome: 'failure',
      origin: requestOrigin(ctx),
      accountId: grant.accountId,
      clientId: grant.clientId,
      ...(reason === 'refresh_token_reused' ? {} : { detail: { grant_type: ctx.oidc.params?.grant_type } }),
    });
  }
}

/**
 * Who revoked it: FairyID, for a reuse (whoever presented the token may be a thief, and the app did
 * not ask for it); the app, at the revocation endpoint; the person, at logout (through the app that
 * sent them there, if one did).
 */
function causeOf(
  ctx: KoaContextWithOIDC,
  grant: RevokedGrant,
  reused: GrantRevocationReason | undefined,
): GrantRevocationCause {
  if (reused) return { actor: { type: 'system' }, reason: reused };
  if (ctx.oidc.route === 'revocation' && ctx.oidc.client)
    return { actor: { type: 'client', id: ctx.oidc.client.clientId }, reason: 'token_revoked' };
  if (ctx.oidc.route === 'end_session_confirm')
    return {
      actor: { type: 'account', id: grant.accountId, client_id: ctx.oidc.client?.clientId ?? null },
      reason: 'signed_out',
    };
  // No other route of oidc-provider 9 revokes a grant; should one appear, it is still published.
  return { actor: { type: 'system' } };
}
