import type { ColumnType, Selectable } from 'kysely';

export interface AccountSessionsTable {
  session_uid: string;
  account_id: string;
  /** The provider's current id for the session (its cookie value); it changes at every sign-in. */
  session_id: string;
  user_agent: string | null;
  ip: string | null;
  created_at: ColumnType<Date, never, never>;
  last_seen_at: ColumnType<Date, Date | undefined, Date>;
  expires_at: Date;
  ended_at: ColumnType<Date | null, never, Date>;
}

export type AccountSession = Selectable<AccountSessionsTable>;

export interface AccountSessionTables {
  account_sessions: AccountSessionsTable;
}
