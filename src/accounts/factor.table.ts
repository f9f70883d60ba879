import type { ColumnType, Generated, JSONColumnType, Selectable } from 'kysely';

export interface PasskeysTable {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: Uint8Array;
  /** bigint in Postgres; pg returns it as a string. */
  counter: ColumnType<string, number, number>;
  transports: JSONColumnType<string[]>;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: ColumnType<Date, never, never>;
  last_used_at: ColumnType<Date | null, never, Date>;
}

export interface TotpFactorsTable {
  account_id: string;
  sealed_secret: string;
  name: string;
  last_used_step: ColumnType<string, number | undefined, number>;
  created_at: ColumnType<Date, never, never>;
  last_used_at: ColumnType<Date | null, never, Date>;
}

export interface BackupCodesTable {
  account_id: string;
  code_hash: string;
  used_at: ColumnType<Date | null, never, Date>;
  created_at: Generated<Date>;
}

export type Passkey = Selectable<PasskeysTable>;
export type TotpFactor = Selectable<TotpFactorsTable>;

export interface FactorTables {
  passkeys: PasskeysTable;
  totp_factors: TotpFactorsTable;
  backup_codes: BackupCodesTable;
}
