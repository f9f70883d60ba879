import type { Db } from '../db/database.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { EventRecorder } from '../events/event-recorder.ts';

/** A grant that was deleted, with the person who gave it and the app it was given to. */
export type RevokedGrant = { grantId: string; accountId: string; clientId: string };

/** Publishes one revocation. */
export type PublishGrantRevoked = (grant: RevokedGrant, cause: GrantRevocationCause) => Promise<void>;

/**
 * `grant.revoked` for a grant revoked anywhere but the account page's disconnect (which publishes
 * through its audit row, audit-events.ts). oidc-provider's models revoke a grant and its tokens each
 * writing on its own, partly to the key-value store: there is no transaction of ours to join, so the
 * event commits in its own, right after the grant is gone. A crash in between loses the event, never
 * the revocation.
 */
export function createGrantRevocationEvents(db: Db, events: EventRecorder): PublishGrantRevoked {
  return async (grant, cause) => {
    await db.transaction().execute(async (trx) => {
      await events.record(trx, {
        type: 'grant.revoked',
        actor: cause.actor,
        subject: { type: 'account', id: grant.accountId },
        data: {
          client_id: grant.clientId,
          grant_ids: [grant.grantId],
          ...(cause.reason ? { reason: cause.reason } : {}),
        },
      });
    });
  };
}
