import type { ClientRegistry } from './client-registry.ts';

/** The client id the `fairy` command-line client signs in with, on every FairyID. */
export const CLI_CLIENT_ID = 'fairy-cli';

/**
 * What `fairy` may ask for: who the person is, a refresh token, and the API scopes its commands use
 * (whoami, organizations, DUST balance and history, environments and their terminals). It never
 * spends DUST on its own (dust:spend) nor manages the platform.
 */
export const CLI_SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'account:read',
  'organizations:read',
  'organizations:write',
  'dust:read',
  'environments:read',
  'environments:write',
  'environments:connect',
] as const;

/**
 * Registers the CLI's public client, in production too (FAIRY_CLI_CLIENT=false leaves it out). A
 * program on people's machines cannot keep a secret, so it authenticates with nothing (RFC 8252
 * 8.4) and signs in with the device flow (RFC 8628), which also works over SSH with no browser. It
 * is not first-party: the person sees and allows the scopes after confirming the code, one more
 * chance to notice a code someone else sent them (RFC 8628 5.4, remote phishing).
 */
export async function ensureCliClient(clients: ClientRegistry): Promise<void> {
  await clients.ensure({
    clientId: CLI_CLIENT_ID,
    name: 'fairy CLI',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    authMethod: 'none',
    scope: CLI_SCOPES.join(' '),
    firstParty: false,
  });
}
