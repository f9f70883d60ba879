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
  /** May register OAuth clients of their own (see src/builders/). */
  builder: Generated<boolean>;
  /** active; suspended by the platform owner (no sign-in, no tokens); deleted by the person (a tombstone). */
  status: Generated<AccountStatus>;
  /** Why the platform owner suspended it. */
  status_reason: string | null;
  status_changed_at: Date | null;
  /** When the person last said "not now" to creating a passkey after a code sign-in. */
  passkey_offer_skipped_at: ColumnType<Date | null, never, Date | null>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export const ACCOUNT_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export type Account = Selectable<AccountsTable>;

export interface AccountTables {
  accounts: AccountsTable;
}
