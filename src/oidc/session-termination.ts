import type Provider from 'oidc-provider';
import type { Client } from 'oidc-provider';
import type { Logger } from 'pino';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { RevokeGrant } from './grant-revoker.ts';

type Deps = {
  provider: () => Provider;
  log: Logger;
  revokeGrant: RevokeGrant;
};

/** oidc-provider's clients have this method when back-channel logout is enabled; its typings omit it. */
type BackchannelClient = Client & { backchannelLogout(sub: string, sid: string | undefined): Promise<void> };

/**
 * Ends a provider session that is not the one making the request (a person signing out another
 * device from the account page). Mirrors what oidc-provider's own logout does in
 * lib/actions/end_session.js with logout=yes: back-channel logout to every client of the session
 * that registered one, revocation of each client's grant unless it was given offline_access, then
 * the session itself, so its cookie no longer signs anyone in.
 */
export function createSessionTermination(deps: Deps) {
  async function findClient(provider: Provider, clientId: string): Promise<Client | undefined> {
    // A client removed or made invalid since the sign-in has nothing left to tell or revoke.
    return provider.Client.find(clientId).catch(() => undefined);
  }

  async function backchannelLogout(client: Client, accountId: string, sid: string | undefined) {
    if (!client.backchannelLogoutUri) return;
    try {
      await (client as BackchannelClient).backchannelLogout(accountId, sid);
    } catch (error) {
      // An app that is down must not keep the person signed in here: the logout goes on.
      deps.log.warn({ err: error, clientId: client.clientId }, 'back-channel logout failed');
    }
  }

  return {
    async exists(sessionUid: string): Promise<boolean> {
      return (await deps.provider().Session.findByUid(sessionUid)) !== undefined;
    },

    /**
     * False when no such session exists any more (expired, or already signed out). `cause` is what the
     * grant.revoked events of the grants it revokes say.
     */
    async end(sessionUid: string, cause: GrantRevocationCause): Promise<boolean> {
      const provider = deps.provider();
      const session = await provider.Session.findByUid(sessionUid);
      if (!session) return false;
      const authorizations = Object.entries(session.authorizations ?? {});
      if (session.accountId) {
        const accountId = session.accountId;
        await Promise.all(
          authorizations.map(async ([clientId, authorization]) => {
            const client = await findClient(provider, clientId);
            if (client) await backchannelLogout(client, accountId, authorization.sid);
          }),
        );
      }
      await Promise.all(
        authorizations
          .flatMap(([, authorization]) =>
            authorization.grantId && !authorization.persistsLogout ? [authorization.grantId] : [],
          )
          .map((grantId) => deps.revokeGrant(grantId, cause)),
      );
      await session.destroy();
      return true;
    },
  };
}
