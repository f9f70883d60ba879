import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** A stored oidc-provider Grant: what one person allowed one client, as oidc-provider's payload holds it. */
export type StoredGrant = {
  id: string;
  clientId: string;
  accountId: string;
  /** Seconds since the epoch, as in the payload. */
  issuedAt: number;
  openid?: { scope?: string } | undefined;
  resources?: Record<string, string> | undefined;
  rejected?: { openid?: { scope?: string }; resources?: Record<string, string> } | undefined;
};

/**
 * Reads the grants oidc-provider keeps in `oidc_payloads` (see adapter.ts). Writes and deletes go
 * through oidc-provider itself (grant-revocation.ts), never here.
 */
export function createGrantRepository(db: Db) {
  return {
    /** The person's live grants, newest first (served by the oidc_payloads_grant_account index). */
    async findByAccount(accountId: string): Promise<StoredGrant[]> {
      const rows = await db
        .selectFrom('oidc_payloads')
        .select(['id', 'payload'])
        .where('model', '=', 'Grant')
        .where(sql<string>`payload->>'accountId'`, '=', accountId)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
        .execute();
      return rows
        .map(({ id, payload }) => ({
          id,
          clientId: String(payload.clientId),
          accountId: String(payload.accountId),
          issuedAt: Number(payload.iat ?? 0),
          openid: payload.openid as StoredGrant['openid'],
          resources: payload.resources as StoredGrant['resources'],
          rejected: payload.rejected as StoredGrant['rejected'],
        }))
        .sort((a, b) => b.issuedAt - a.issuedAt);
    },

    /** The ids of every grant stored for a client, whoever gave it (expired ones too: they go with the client). */
    async findIdsByClient(clientId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('oidc_payloads')
        .select('id')
        .where('model', '=', 'Grant')
        .where(sql<string>`payload->>'clientId'`, '=', clientId)
        .execute();
      return rows.map((row) => row.id);
    },
  };
}

export type GrantRepository = ReturnType<typeof createGrantRepository>;
