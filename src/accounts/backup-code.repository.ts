import type { Db } from '../db/database.ts';

export function createBackupCodeRepository(db: Db) {
  return {
    async countUnused(accountId: string): Promise<number> {
      const row = await db
        .selectFrom('backup_codes')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /**
     * The old set dies with the new one, in one transaction. The account row is locked first, so two
     * concurrent replacements cannot interleave their deletes and inserts into a set of twenty.
     */
    async replace(accountId: string, hashes: string[], onlyIfNoneUnused = false): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().executeTakeFirst();
        if (onlyIfNoneUnused) {
          const unused = await trx
            .selectFrom('backup_codes')
            .select('code_hash')
            .where('account_id', '=', accountId)
            .where('used_at', 'is', null)
            .executeTakeFirst();
          if (unused) return false;
        }
        await trx.deleteFrom('backup_codes').where('account_id', '=', accountId).execute();
        await trx
          .insertInto('backup_codes')
          .values(hashes.map((code_hash) => ({ account_id: accountId, code_hash })))
          .execute();
        return true;
      });
    },

    /**
     * Marks the code used if it is unused: one statement, so two requests with one code cannot both
     * win. `hashes` are the typed code's hashes under each KEYS_SECRET secret; at most one is stored.
     */
    async markUsed(accountId: string, hashes: string[]): Promise<boolean> {
      const row = await db
        .updateTable('backup_codes')
        .set({ used_at: new Date() })
        .where('account_id', '=', accountId)
        .where('code_hash', 'in', hashes)
        .where('used_at', 'is', null)
        .returning('code_hash')
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Deletes the account's codes if it has no passkey and no authenticator app left, in one
     * statement: of two factors removed at once, the second removal's check sees the first.
     */
    async deleteUnlessSecondFactor(accountId: string): Promise<void> {
      await db
        .deleteFrom('backup_codes')
        .where('account_id', '=', accountId)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('passkeys').select('id').where('account_id', '=', accountId))),
        )
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('totp_factors').select('account_id').where('account_id', '=', accountId))),
        )
        .execute();
    },
  };
}

export type BackupCodeRepository = ReturnType<typeof createBackupCodeRepository>;
