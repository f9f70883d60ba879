import type { ColumnType, Selectable } from 'kysely';

/** The upstream tokens kept for one linked identity, sealed (provider-token-seal.ts). */
export interface ProviderTokensTable {
  linked_identity_id: string;
  account_id: string;
  provider: string;
  access_token_sealed: string;
  refresh_token_sealed: string | null;
  /** Space-separated, as the upstream granted them. */
  scope: string | null;
  /** Null when the upstream did not say: the access token does not expire. */
  expires_at: Date | null;
  /** When the background refresh is due next (before expiry, or after a back-off); null: nothing to do. */
  refresh_at: Date | null;
  /** Upstream failures since the last successful refresh, for the back-off. */
  refresh_failures: ColumnType<number, number | undefined, number>;
  /** Set when the upstream answered invalid_grant: the person must sign in there again. */
  reconsent_needed_at: Date | null;
  lease_owner: string | null;
  lease_until: Date | null;
  updated_at: Date;
}

export type ProviderTokenRow = Selectable<ProviderTokensTable>;

export interface ProviderTokenTables {
  provider_tokens: ProviderTokensTable;
}
