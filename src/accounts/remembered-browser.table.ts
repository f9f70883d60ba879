import type { ColumnType, Selectable } from 'kysely';

export interface RememberedBrowsersTable {
  id: string;
  account_id: string;
  token_hash: string;
  user_agent: string | null;
  ip: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  last_used_at: ColumnType<Date | null, never, Date>;
  expires_at: ColumnType<Date, Date, never>;
}

export type RememberedBrowser = Selectable<RememberedBrowsersTable>;

export interface RememberedBrowserTables {
  remembered_browsers: RememberedBrowsersTable;
}
