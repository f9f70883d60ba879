import type { ColumnType, JSONColumnType } from 'kysely';
import type { ResponseType } from 'oidc-provider';

export interface ClientsTable {
  client_id: string;
  metadata: JSONColumnType<ClientMetadata>;
  organization_id: string | null;
  /** Set for a builder's own clients (src/builders/). */
  owner_account_id: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** Registered client metadata as oidc-provider reads it; `client_secret` holds the secret's hash. */
export type ClientMetadata = {
  client_id: string;
  client_name?: string;
  client_secret?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  grant_types: string[];
  response_types: ResponseType[];
  token_endpoint_auth_method: 'none' | 'client_secret_basic' | 'client_secret_post';
  scope?: string;
  first_party?: boolean;
  organization_id?: string;
  /** The builder who registered the client, for clients people register for themselves. */
  owner_account_id?: string;
  /** OpenID Connect Registration 2: `native` admits custom-scheme redirect URIs (RFC 8252 7.1). */
  application_type?: 'web' | 'native';
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  [key: string]: unknown;
};

export interface SigningKeysTable {
  kid: string;
  alg: string;
  encrypted_jwk: string;
  created_at: ColumnType<Date, never, never>;
  retired_at: ColumnType<Date | null, never, Date>;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: JSONColumnType<Record<string, unknown>>;
  grant_id: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

export interface OidcTables {
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
  oidc_payloads: OidcPayloadsTable;
}
