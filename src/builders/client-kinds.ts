import type { ClientMetadata } from '../oidc/oidc.tables.ts';

/**
 * The kinds of app a builder registers on the developer page, each a preset of the OAuth metadata
 * the API takes field by field. Public clients (no secret) are the ones whose code runs where people
 * can read it: single-page apps, native apps and devices; PKCE protects them (RFC 8252, RFC 9700).
 */
export const CLIENT_KINDS = {
  web: {
    label: 'Web app with a server',
    hint: 'Keeps a secret on its server; signs people in and refreshes their tokens.',
    applicationType: 'web',
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'client_secret_basic',
    redirects: true,
  },
  spa: {
    label: 'Single-page app',
    hint: 'Runs in the browser, so it has no secret; may call the API from its origin.',
    applicationType: 'web',
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'none',
    redirects: true,
  },
  native: {
    label: 'Native or desktop app',
    hint: 'On phones and computers: redirects to a loopback address (http://127.0.0.1:PORT/…) or its own scheme.',
    applicationType: 'native',
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'none',
    redirects: true,
  },
  device: {
    label: 'Device or command-line tool',
    hint: 'Shows a code that people confirm on another screen (device flow, RFC 8628).',
    applicationType: 'native',
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    authMethod: 'none',
    redirects: false,
  },
  service: {
    label: 'Service (machine to machine)',
    hint: 'Calls the API as itself with its secret (client credentials); nobody signs in.',
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
