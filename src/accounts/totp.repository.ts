import type { Db } from '../db/database.ts';
import type { TotpFactor } from './factor.table.ts';

export function createTotpRepository(db: Db) {
  return {
    find(accountId: string): Promise<TotpFactor | undefined> {
      return db.selectFrom('totp_factors').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    },

    /** False when the person already has an authenticator app (one per person). */
    async insert(row: {
      account_id: string;
      sealed_secret: string;
      name: string;
      last_used_step: number;
    }): Promise<boolean> {
      const inserted = await db
        .insertInto('totp_factors')
        .values(row)
        .onConflict((c) => c.column('account_id').doNothing())
        .returning('account_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /**
     * Moves the last used step forward to `step`, only if it is still behind: of two requests with
     * the same code, exactly one updates the row (RFC 6238 5.2).
     */
    async advanceStep(accountId: string, step: number): Promise<boolean> {
      const row = await db
        .updateTable('totp_factors')
        .set({ last_used_step: step, last_used_at: new Date() })
        .where('account_id', '=', accountId)
        .where('last_used_step', '<', String(step))
        .returning('account_id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async rename(accountId: string, name: string): Promise<boolean> {
      const row = await db
        .updateTable('totp_factors')
        .set({ name })
        .where('account_id', '=', accountId)
        .returning('account_id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async delete(accountId: string): Promise<boolean> {
      const row = await db
        .deleteFrom('totp_factors')
        .where('account_id', '=', accountId)
        .returning('account_id')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type TotpRepository = ReturnType<typeof createTotpRepository>;
