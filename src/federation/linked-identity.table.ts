import type { ColumnType, Selectable } from 'kysely';

export interface LinkedIdentitiesTable {
  id: string;
  account_id: string;
  provider: string;
  subject: string;
  email: string | null;
  display_name: string | null;
  created_at: ColumnType<Date, never, never>;
  last_used_at: ColumnType<Date, Date | undefined, Date>;
}

export type LinkedIdentity = Selectable<LinkedIdentitiesTable>;

export interface FederationTables {
  linked_identities: LinkedIdentitiesTable;
}
