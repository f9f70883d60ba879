import type { ClientMetadata } from '../oidc/oidc.tables.ts';

/**
 * The kinds of app a builder registers on the developer page, each a preset of the OAuth metadata
 * the API takes field by field. Public clients (no secret) are the ones whose code runs where people
 * can read it: single-page apps, native apps and devices; PKCE protects them (RFC 8252, RFC 9700).
 * Their names and hints for people are in the notices catalog (`notices.clientKind.<kind>.*`).
 */
export const CLIENT_KINDS = {
  web: {
    applicationType: 'web',
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'client_secret_basic',
    redirects: true,
  },
  spa: {
    applicationType: 'web',
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'none',
    redirects: true,
  },
  native: {
    applicationType: 'native',
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'none',
    redirects: true,
  },
  device: {
    applicationType: 'native',
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    authMethod: 'none',
    redirects: false,
  },
  service: {
    applicationType: 'web',
    grantTypes: ['client_credentials'],
    authMethod: 'client_secret_basic',
    redirects: false,
  },
} as const;

export type ClientKind = keyof typeof CLIENT_KINDS;

export function isClientKind(value: unknown): value is ClientKind {
  return typeof value === 'string' && Object.hasOwn(CLIENT_KINDS, value);
}

/** Which kind a registered client is, however it was registered (page, API). */
export function kindOf(client: ClientMetadata): ClientKind {
  if (client.grant_types.includes('client_credentials')) return 'service';
  if (client.grant_types.includes('urn:ietf:params:oauth:grant-type:device_code')) return 'device';
  if (client.application_type === 'native') return 'native';
  return client.token_endpoint_auth_method === 'none' ? 'spa' : 'web';
}
