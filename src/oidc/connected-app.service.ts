import type { ClientRepository } from './client.repository.ts';
import type { GrantRepository, StoredGrant } from './grant.repository.ts';
import type { RevokeGrant } from './grant-revoker.ts';

/** An app the person has let into their account: every grant of one client, taken together. */
export type ConnectedApp = {
  clientId: string;
  /** Null once the app's registration was removed (the page words that for the reader). */
  name: string | null;
  /** OIDC scopes, then API scopes, each once. */
  scopes: string[];
  /** The organizations it acts for (the `organization` scope binds each grant to one); null for one the person left. */
  organizations: (string | null)[];
  /** When the person first allowed it. */
  since: Date;
};

type Deps = {
  grants: GrantRepository;
  clients: Pick<ClientRepository, 'find'>;
  revokeGrant: RevokeGrant;
  organizations: {
    /** As in configuration.ts: undefined when the grant is not for an organization, null once the person left it. */
    grantClaims(grantId: string): Promise<{ org_id: string } | null | undefined>;
    membershipsOf(accountId: string): Promise<{ id: string; name: string }[]>;
  };
  /** Clients that are part of FairyID itself (our own pages' sign-in): never listed, never disconnected here. */
  hiddenClientIds: string[];
};

/**
 * The apps a person has connected, and disconnecting one. A person signed in to an app on two
 * devices has two grants for it; they see one app, and disconnecting it revokes both.
 */
export function createConnectedAppService(deps: Deps) {
  const hidden = new Set(deps.hiddenClientIds);
  const grantsOf = async (accountId: string) =>
    (await deps.grants.findByAccount(accountId)).filter((grant) => !hidden.has(grant.clientId));

  const organizationNames = async (accountId: string, grants: StoredGrant[]) => {
    const memberships = new Map((await deps.organizations.membershipsOf(accountId)).map((org) => [org.id, org.name]));
    const names = await Promise.all(
      grants.map(async (grant) => {
        const claims = await deps.organizations.grantClaims(grant.id);
        if (claims === undefined) return undefined;
        return (claims && memberships.get(claims.org_id)) ?? null;
      }),
    );
    return [...new Set(names.filter((name) => name !== undefined))];
  };

  return {
    async list(accountId: string): Promise<ConnectedApp[]> {
      const byClient = Map.groupBy(await grantsOf(accountId), (grant) => grant.clientId);
      const apps = await Promise.all(
        [...byClient].map(async ([clientId, grants]) => ({
          clientId,
          name: (await deps.clients.find(clientId))?.client_name ?? null,
          scopes: [...new Set(grants.flatMap(grantedScopes))],
          organizations: await organizationNames(accountId, grants),
          since: new Date(Math.min(...grants.map((grant) => grant.issuedAt)) * 1000),
        })),
      );
      // Removed apps last; the others by name.
      const removed = (app: ConnectedApp) => (app.name === null ? 1 : 0);
      return apps.sort((a, b) => removed(a) - removed(b) || (a.name ?? '').localeCompare(b.name ?? ''));
    },

    /**
     * Revokes every grant of this client to this person; the ids revoked (none when the app was not
     * connected). The caller publishes them, with its audit row: a grant that another revocation
     * deleted first is that revocation's to publish, so it is not among them.
     */
    async disconnect(accountId: string, clientId: string): Promise<string[]> {
      const grants = (await grantsOf(accountId)).filter((grant) => grant.clientId === clientId);
      const revoked: string[] = [];
      for (const grant of grants) if (await deps.revokeGrant(grant.id)) revoked.push(grant.id);
      return revoked;
    },
  };
}

export type ConnectedAppService = ReturnType<typeof createConnectedAppService>;

/** What the grant allows: granted minus rejected, as oidc-provider's Grant#getOIDCScope and #getResourceScope read it. */
function grantedScopes(grant: StoredGrant): string[] {
  const words = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean);
  // `openid` cannot be rejected on its own (oidc-provider keeps it).
  const rejectedOidc = new Set(words(grant.rejected?.openid?.scope).filter((scope) => scope !== 'openid'));
  const oidc = words(grant.openid?.scope).filter((scope) => !rejectedOidc.has(scope));
  const resources = Object.entries(grant.resources ?? {}).flatMap(([indicator, scope]) => {
    const rejected = new Set(words(grant.rejected?.resources?.[indicator]));
    return words(scope).filter((word) => !rejected.has(word));
  });
  return [...oidc, ...resources];
}
