import type { Db } from '../db/database.ts';
import type { Account } from './account.table.ts';

export function createAccountRepository(db: Db) {
  return {
    findById(id: string): Promise<Account | undefined> {
      return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    },

    findByEmail(email: string): Promise<Account | undefined> {
      return db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
    },

    findByPhoneNumber(phoneNumber: string): Promise<Account | undefined> {
      return db.selectFrom('accounts').selectAll().where('phone_number', '=', phoneNumber).executeTakeFirst();
    },

    /** Inserts unless the phone number is taken; returns undefined on any unique conflict. */
    insertWithPhoneNumber(row: { id: string; phone_number: string; fairyname: string }): Promise<Account | undefined> {
      return db
        .insertInto('accounts')
        .values({ ...row, phone_number_verified: true })
        .onConflict((c) => c.doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async updatePlatformOwner(email: string, owner: boolean): Promise<boolean> {
      const result = await db
        .updateTable('accounts')
        .set({ platform_owner: owner, updated_at: new Date() })
        .where('email', '=', email)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Inserts unless the email is taken; returns undefined on any unique conflict. */
    insertWithEmail(row: { id: string; email: string; fairyname: string }): Promise<Account | undefined> {
      return db
        .insertInto('accounts')
        .values({ ...row, email_verified: true })
        .onConflict((c) => c.doNothing())
        .returningAll()
        .executeTakeFirst();
    },
  };
}

export type AccountRepository = ReturnType<typeof createAccountRepository>;
