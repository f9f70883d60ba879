import type { ColumnType, Generated, Selectable } from 'kysely';

export interface AccountsTable {
  id: string;
  email: string | null;
  email_verified: Generated<boolean>;
  phone_number: string | null;
  phone_number_verified: Generated<boolean>;
  name: string | null;
  picture_url: string | null;
  fairyname: string;
  platform_owner: Generated<boolean>;
  /** When the person last said "not now" to creating a passkey after a code sign-in. */
  passkey_offer_skipped_at: ColumnType<Date | null, never, Date | null>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export type Account = Selectable<AccountsTable>;

export interface AccountTables {
  accounts: AccountsTable;
}
