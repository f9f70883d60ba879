import type { ColumnType, JSONColumnType, Selectable } from 'kysely';

export const WALLET_KINDS = ['person', 'organization', 'app', 'system'] as const;
export type WalletKind = (typeof WALLET_KINDS)[number];

export const TRANSACTION_KINDS = [
  'signup_grant',
  'charge',
  'refund',
  'transfer',
  'purchase',
  'purchase_reversal',
  'environment_usage',
] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export interface WalletsTable {
  id: string;
  kind: WalletKind;
  owner_id: string;
  /** A cache of the wallet's entries; null for system wallets, whose balance is read from their entries. */
  balance: ColumnType<number | null, number | null | undefined, never>;
  created_at: ColumnType<Date, never, never>;
}

export interface LedgerTransactionsTable {
  id: string;
  kind: TransactionKind;
  reference: string | null;
  amount: number;
  account_id: string | null;
  client_id: string | null;
  organization_id: string | null;
  description: string | null;
  reverses_id: string | null;
  created_at: ColumnType<Date, never, never>;
}

export interface LedgerEntriesTable {
  id: string;
  transaction_id: string;
  wallet_id: string;
  amount: number;
  created_at: ColumnType<Date, never, never>;
}

export interface DustAllowancesTable {
  account_id: string;
  client_id: string;
  remaining: number;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  response: JSONColumnType<object | null>;
  created_at: ColumnType<Date, never, never>;
}

export type Wallet = Selectable<WalletsTable>;
export type LedgerTransaction = Selectable<LedgerTransactionsTable>;

export interface LedgerTables {
  wallets: WalletsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  dust_allowances: DustAllowancesTable;
  idempotency_keys: IdempotencyKeysTable;
}
