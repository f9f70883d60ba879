import type { Db } from '../db/database.ts';
import type { LinkedIdentity } from './linked-identity.table.ts';

/** What the upstream said about the person at its last sign-in, kept for the account pages. */
export type UpstreamProfile = { email: string | null; display_name: string | null };

export function createLinkedIdentityRepository(db: Db) {
  return {
    find(provider: string, subject: string): Promise<LinkedIdentity | undefined> {
      return db
        .selectFrom('linked_identities')
        .selectAll()
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .executeTakeFirst();
    },

    findByAccount(accountId: string): Promise<LinkedIdentity[]> {
      return db
        .selectFrom('linked_identities')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    /** The account's identities, locked until the transaction ends: two unlinks cannot both take the last but one. */
    lockByAccount(accountId: string): Promise<{ id: string }[]> {
      return db.selectFrom('linked_identities').select('id').where('account_id', '=', accountId).forUpdate().execute();
    },

    async delete(accountId: string, id: string): Promise<LinkedIdentity | undefined> {
      return db
        .deleteFrom('linked_identities')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /** Undefined when the identity is already linked (to this account or another): the unique constraint decides. */
    insert(
      row: { id: string; account_id: string; provider: string; subject: string } & UpstreamProfile,
      now: Date,
    ): Promise<LinkedIdentity | undefined> {
      return db
        .insertInto('linked_identities')
        .values({ ...row, last_used_at: now })
        .onConflict((c) => c.columns(['provider', 'subject']).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async updateLastUsed(id: string, profile: UpstreamProfile, now: Date): Promise<void> {
      await db
        .updateTable('linked_identities')
        .set({ ...profile, last_used_at: now })
        .where('id', '=', id)
        .execute();
    },
  };
}

export type LinkedIdentityRepository = ReturnType<typeof createLinkedIdentityRepository>;
