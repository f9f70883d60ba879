import type { Actor } from '../events/event-catalog.ts';
import type { GrantRepository } from './grant.repository.ts';
import type { RevokeGrant } from './grant-revoker.ts';

/**
 * What deleting a client takes with it: every grant people gave it, and with each grant its refresh
 * tokens, stored access tokens and pending codes (grant-revoker.ts), so nothing it was issued can
 * be refreshed or looked up again. Its JWT access tokens are refused by /api from the moment the
 * client is gone (bearer-guard.ts checks the client) and through their grant's revocation mark.
 */
export function createClientRevoker(deps: {
  grants: Pick<GrantRepository, 'findIdsByClient'>;
  revokeGrant: RevokeGrant;
}) {
  /** `by` deleted the client: each grant's grant.revoked names them. */
  return async function revokeClient(clientId: string, by: Actor): Promise<number> {
    const grantIds = await deps.grants.findIdsByClient(clientId);
    for (const grantId of grantIds) await deps.revokeGrant(grantId, { actor: by, reason: 'client_deleted' });
    return grantIds.length;
  };
}

export type RevokeClient = ReturnType<typeof createClientRevoker>;
