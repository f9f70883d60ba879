import type { Db } from '../db/database.ts';

export function createRememberedBrowserRepository(db: Db) {
  return {
    async insert(row: {
      id: string;
      account_id: string;
      token_hash: string;
      user_agent: string | null;
      ip: string | null;
      created_at: Date;
      expires_at: Date;
    }): Promise<void> {
      await db.insertInto('remembered_browsers').values(row).execute();
    },

    /** The row for this token and account, if it has not expired; its last use is moved to `now`. */
    async touchValid(accountId: string, tokenHash: string, now: Date): Promise<boolean> {
      const row = await db
        .updateTable('remembered_browsers')
        .set({ last_used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('account_id', '=', accountId)
        .where('expires_at', '>', now)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },

    findUnexpired(accountId: string, now: Date) {
      return db
        .selectFrom('remembered_browsers')
        .select(['id', 'user_agent', 'ip', 'created_at', 'last_used_at', 'expires_at'])
        .where('account_id', '=', accountId)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .execute();
    },

    async delete(accountId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('remembered_browsers')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async deleteAll(accountId: string): Promise<number> {
      const result = await db.deleteFrom('remembered_browsers').where('account_id', '=', accountId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async deleteByToken(tokenHash: string): Promise<void> {
      await db.deleteFrom('remembered_browsers').where('token_hash', '=', tokenHash).execute();
    },
  };
}

export type RememberedBrowserRepository = ReturnType<typeof createRememberedBrowserRepository>;
