import type { Db } from '../db/database.ts';
import type { Account, AccountStatus } from './account.table.ts';

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

    /**
     * Moves the account to `to` only from one of `from`, in one statement: of two concurrent
     * changes, one finds the account already moved. Undefined when it was not in `from` (or is gone).
     */
    updateStatus(
      id: string,
      change: { to: AccountStatus; reason: string | null; from: AccountStatus[] },
    ): Promise<Account | undefined> {
      return db
        .updateTable('accounts')
        .set({ status: change.to, status_reason: change.reason, status_changed_at: new Date(), updated_at: new Date() })
        .where('id', '=', id)
        .where('status', 'in', change.from)
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

    /** Sets the builder flag of the account with this id, or (from the CLI) this email; false when none has it. */
    async updateBuilder(where: { id: string } | { email: string }, builder: boolean): Promise<Account | undefined> {
      return db
        .updateTable('accounts')
        .set({ builder, updated_at: new Date() })
        .where('id' in where ? 'id' : 'email', '=', 'id' in where ? where.id : where.email)
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * The platform console's account search: the exact id, or an email, phone number or fairyname
     * starting with `prefix` (case-insensitive for emails and fairynames). `prefix` is matched
     * literally: LIKE's wildcards in it are escaped.
     */
    search(term: { id: string; prefix: string; phonePrefix: string | undefined }, limit: number): Promise<Account[]> {
      const prefix = startsWith(term.prefix.toLowerCase());
      return db
        .selectFrom('accounts')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('id', '=', term.id),
            eb(eb.fn('lower', ['email']), 'like', prefix),
            eb(eb.fn('lower', ['fairyname']), 'like', prefix),
            ...(term.phonePrefix ? [eb('phone_number', 'like', startsWith(term.phonePrefix))] : []),
          ]),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    async setPasskeyOfferSkipped(id: string, at: Date): Promise<void> {
      await db.updateTable('accounts').set({ passkey_offer_skipped_at: at }).where('id', '=', id).execute();
    },

    async updateProfile(id: string, profile: { name: string | null; picture_url: string | null }): Promise<boolean> {
      const result = await db
        .updateTable('accounts')
        .set({ ...profile, updated_at: new Date() })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Sets a newly verified email; the unique constraint, not a prior read, decides whether another account has it. */
    updateEmail: (id: string, email: string) => updateIdentifier(db, id, { email, email_verified: true }, 'email'),

    /** As `updateEmail`, for a phone number in E.164 form. */
    updatePhoneNumber: (id: string, phoneNumber: string) =>
      updateIdentifier(db, id, { phone_number: phoneNumber, phone_number_verified: true }, 'phone_number'),

    /** An account with neither email nor phone (signed in through an upstream provider); undefined on a fairyname conflict. */
    insertWithoutAddress(row: { id: string; fairyname: string }): Promise<Account | undefined> {
      return db
        .insertInto('accounts')
        .values(row)
        .onConflict((c) => c.doNothing())
        .returningAll()
        .executeTakeFirst();
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

/** What changing an identifier did: `previous` is the value it replaced (for the audit trail). */
export type IdentifierUpdate =
  | { status: 'updated'; previous: string | null }
  | { status: 'taken' }
  | { status: 'not_found' };

async function updateIdentifier(
  db: Db,
  id: string,
  values: { email: string; email_verified: true } | { phone_number: string; phone_number_verified: true },
  column: 'email' | 'phone_number',
): Promise<IdentifierUpdate> {
  try {
    // Joined to its own row as it was before this statement, so the old value comes back with the update.
    const row = await db
      .updateTable('accounts')
      .from('accounts as before')
      .set({ ...values, updated_at: new Date() })
      .whereRef('before.id', '=', 'accounts.id')
      .where('accounts.id', '=', id)
      .returning(`before.${column} as previous`)
      .executeTakeFirst();
    return row ? { status: 'updated', previous: row.previous } : { status: 'not_found' };
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return { status: 'taken' };
    throw error;
  }
}

/** A LIKE pattern for values starting with `text`, its wildcards (and the escape character) taken literally. */
function startsWith(text: string): string {
  return `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
