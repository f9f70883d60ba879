import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ProviderTokenRow, ProviderTokensTable } from './provider-token.table.ts';

type Sealed = Pick<
  Insertable<ProviderTokensTable>,
  'access_token_sealed' | 'refresh_token_sealed' | 'scope' | 'expires_at' | 'refresh_at' | 'updated_at'
>;

/** The provider's tokens of an account, with the identity they belong to. */
export type ProviderTokenOfAccount = {
  linkedIdentityId: string;
  row: ProviderTokenRow | undefined;
};

export function createProviderTokenRepository(db: Db) {
  return {
    find(linkedIdentityId: string): Promise<ProviderTokenRow | undefined> {
      return db
        .selectFrom('provider_tokens')
        .selectAll()
        .where('linked_identity_id', '=', linkedIdentityId)
        .executeTakeFirst();
    },

    /**
     * The account's identity at `provider` and its tokens: the most recently used identity when the
     * account linked several at one provider. Undefined when none is linked.
     */
    async findForAccount(accountId: string, provider: string): Promise<ProviderTokenOfAccount | undefined> {
      const found = await db
        .selectFrom('linked_identities')
        .leftJoin('provider_tokens', 'provider_tokens.linked_identity_id', 'linked_identities.id')
        .select(['linked_identities.id as identity_id', 'provider_tokens.linked_identity_id as token_identity_id'])
        .where('linked_identities.account_id', '=', accountId)
        .where('linked_identities.provider', '=', provider)
        .orderBy('linked_identities.last_used_at', 'desc')
        .orderBy('linked_identities.id')
        .executeTakeFirst();
      if (!found) return undefined;
      return {
        linkedIdentityId: found.identity_id,
        row: found.token_identity_id ? await this.find(found.token_identity_id) : undefined,
      };
    },

    /** The re-consent flags of an account's identities, for its page. */
    async reconsentNeeded(accountId: string): Promise<Set<string>> {
      const rows = await db
        .selectFrom('provider_tokens')
        .select('linked_identity_id')
        .where('account_id', '=', accountId)
        .where('reconsent_needed_at', 'is not', null)
        .execute();
      return new Set(rows.map((row) => row.linked_identity_id));
    },

    /**
     * Inserts or replaces an identity's tokens; a new sign-in clears any re-consent flag and back-off.
     * `refresh_token_sealed` undefined keeps the one held (an upstream that gives it only once).
     */
    async upsert(row: { linked_identity_id: string; account_id: string; provider: string } & Sealed): Promise<void> {
      const changes: Updateable<ProviderTokensTable> = {
        access_token_sealed: row.access_token_sealed,
        scope: row.scope,
        expires_at: row.expires_at,
        refresh_at: row.refresh_at,
        refresh_failures: 0,
        reconsent_needed_at: null,
        updated_at: row.updated_at,
        ...(row.refresh_token_sealed === undefined ? {} : { refresh_token_sealed: row.refresh_token_sealed }),
      };
      await db
        .insertInto('provider_tokens')
        .values({ ...row, refresh_token_sealed: row.refresh_token_sealed ?? null })
        .onConflict((c) => c.column('linked_identity_id').doUpdateSet(changes))
        .execute();
    },

    /**
     * Leases the rows whose refresh is due to `owner` until `leaseUntil`, skipping rows another
     * instance holds (a lease, or a row lock while it claims): each row goes to one instance.
     */
    claimDue(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<ProviderTokenRow[]> {
      return db
        .updateTable('provider_tokens')
        .set({ lease_owner: owner, lease_until: leaseUntil })
        .where('linked_identity_id', 'in', (eb) =>
          eb
            .selectFrom('provider_tokens')
            .select('linked_identity_id')
            .where('refresh_at', '<=', now)
            .where('reconsent_needed_at', 'is', null)
            .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
            .orderBy('refresh_at')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .returningAll()
        .execute();
    },

    /** Leases one row (an app asked for a token that is about to expire); undefined when another holds it. */
    claim(linkedIdentityId: string, owner: string, now: Date, leaseUntil: Date): Promise<ProviderTokenRow | undefined> {
      return db
        .updateTable('provider_tokens')
        .set({ lease_owner: owner, lease_until: leaseUntil })
        .where('linked_identity_id', '=', linkedIdentityId)
        .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
        .returningAll()
        .executeTakeFirst();
    },

    /** Ends a lease with what the refresh changed; nothing when the lease ran out and another took the row. */
    async release(linkedIdentityId: string, owner: string, changes: Updateable<ProviderTokensTable>): Promise<boolean> {
      const result = await db
        .updateTable('provider_tokens')
        .set({ ...changes, lease_owner: null, lease_until: null })
        .where('linked_identity_id', '=', linkedIdentityId)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type ProviderTokenRepository = ReturnType<typeof createProviderTokenRepository>;
