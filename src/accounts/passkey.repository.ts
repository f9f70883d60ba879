import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Passkey } from './factor.table.ts';

export type NewPasskey = {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: Uint8Array;
  counter: number;
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
};

export function createPasskeyRepository(db: Db) {
  return {
    findByAccount(accountId: string): Promise<Passkey[]> {
      return db
        .selectFrom('passkeys')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    findByCredentialId(credentialId: string): Promise<Passkey | undefined> {
      return db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
    },

    /** False when the credential is already registered (to anyone): the unique index decides, not a prior read. */
    async insert(row: NewPasskey): Promise<Passkey | undefined> {
      return db
        .insertInto('passkeys')
        .values({ ...row, transports: JSON.stringify(row.transports) })
        .onConflict((c) => c.column('credential_id').doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * Records a verified use, only if the signature counter moved forward (or the authenticator keeps
     * no counter, reporting 0 every time): one statement, so two requests presenting the same
     * counter value cannot both pass. False when the stored counter had already reached it.
     */
    async updateUse(id: string, use: { counter: number; backedUp: boolean }): Promise<boolean> {
      const row = await db
        .updateTable('passkeys')
        .set({ counter: use.counter, backed_up: use.backedUp, last_used_at: new Date() })
        .where('id', '=', id)
        .where(sql<boolean>`(counter < ${use.counter} or (counter = 0 and ${use.counter}::bigint = 0))`)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async updateName(accountId: string, id: string, name: string): Promise<Passkey | undefined> {
      return db
        .updateTable('passkeys')
        .set({ name })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .returningAll()
        .executeTakeFirst();
    },

    async delete(accountId: string, id: string): Promise<Passkey | undefined> {
      return db
        .deleteFrom('passkeys')
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .returningAll()
        .executeTakeFirst();
    },
  };
}

export type PasskeyRepository = ReturnType<typeof createPasskeyRepository>;
