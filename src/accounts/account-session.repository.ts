import type { Db } from '../db/database.ts';
import type { AccountSession } from './account-session.table.ts';

export type AccountSessionSighting = {
  session_uid: string;
  account_id: string;
  session_id: string;
  user_agent: string | null;
  ip: string | null;
  expires_at: Date;
};

/** The index of a person's provider sessions; the sessions themselves live in oidc-provider's storage. */
export function createAccountSessionRepository(db: Db) {
  return {
    /**
     * Inserts the session or refreshes what we know of it. A row that ended stays ended, and a row
     * never changes hands: a session uid belongs to the account it was first seen with.
     */
    async upsert(row: AccountSessionSighting): Promise<void> {
      const { session_uid: _uid, account_id: _account, ...changes } = row;
      await db
        .insertInto('account_sessions')
        .values(row)
        .onConflict((c) =>
          c
            .column('session_uid')
            .doUpdateSet({ ...changes, last_seen_at: new Date() })
            .where('account_sessions.ended_at', 'is', null)
            .where('account_sessions.account_id', '=', row.account_id),
        )
        .execute();
    },

    async updateSessionId(sessionUid: string, sessionId: string): Promise<void> {
      await db
        .updateTable('account_sessions')
        .set({ session_id: sessionId, last_seen_at: new Date() })
        .where('session_uid', '=', sessionUid)
        .where('ended_at', 'is', null)
        .execute();
    },

    async updateLastSeen(sessionUid: string): Promise<void> {
      await db
        .updateTable('account_sessions')
        .set({ last_seen_at: new Date() })
        .where('session_uid', '=', sessionUid)
        .where('ended_at', 'is', null)
        .execute();
    },

    /** False when the row had already ended (or never existed). */
    async updateEnded(sessionUid: string): Promise<boolean> {
      const result = await db
        .updateTable('account_sessions')
        .set({ ended_at: new Date() })
        .where('session_uid', '=', sessionUid)
        .where('ended_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Sessions neither ended nor past their expiry, most recently used first. */
    findLive(accountId: string): Promise<AccountSession[]> {
      return db
        .selectFrom('account_sessions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('ended_at', 'is', null)
        .where('expires_at', '>', new Date())
        .orderBy('last_seen_at', 'desc')
        .execute();
    },

    /** Every session the account had, ended ones too, newest first (the person's data export). */
    findAll(accountId: string): Promise<AccountSession[]> {
      return db
        .selectFrom('account_sessions')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at', 'desc')
        .execute();
    },

    findLiveOne(accountId: string, sessionUid: string): Promise<AccountSession | undefined> {
      return db
        .selectFrom('account_sessions')
        .selectAll()
        .where('session_uid', '=', sessionUid)
        .where('account_id', '=', accountId)
        .where('ended_at', 'is', null)
        .where('expires_at', '>', new Date())
        .executeTakeFirst();
    },
  };
}

export type AccountSessionRepository = ReturnType<typeof createAccountSessionRepository>;
