import { z } from 'zod';
import type { AppLinks } from './app-links.ts';
import type { ClientRegistration } from './client-registry.ts';
import type { ClientMetadata } from './oidc.tables.ts';

/**
 * How /api registers and shows an OAuth client, whoever owns it (an organization, a builder): one
 * request body and one answer, so both sets of routes accept and show exactly the same.
 */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

export const clientSchema = z.object({
  client_id: z.string(),
  client_name: z.string().optional(),
  application_type: z.enum(['web', 'native']),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  scope: z.string().optional(),
  backchannel_logout_uri: z.string().optional(),
  backchannel_logout_session_required: z.boolean(),
  logo_uri: z.string().optional(),
  client_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  tos_uri: z.string().optional(),
});

// Checked further by the registry (oidc/app-links.ts): https only outside development, no javascript: or data:.
const appLink = (what: string) => z.string().max(2000).optional().describe(what);
export const appLinkFields = {
  logo_uri: appLink("The app's logo, shown on the sign-in and consent pages (https)"),
  client_uri: appLink("The app's home page; its domain is shown on those pages (https)"),
  policy_uri: appLink("The app's privacy policy, linked from those pages (https)"),
  tos_uri: appLink("The app's terms of service, linked from those pages (https)"),
};

/** The app links a request body set (an empty string removes one). */
export const linksOf = (body: Partial<Record<keyof typeof appLinkFields, string | undefined>>): AppLinks =>
  Object.fromEntries(Object.entries(body).filter(([key, value]) => key in appLinkFields && value !== undefined));

export const clientWithSecretSchema = clientSchema.extend({
  client_secret: z.string().optional().describe('Shown once: only its hash is kept'),
});

export const clientRegistrationBody = z.object({
  client_name: z.string().trim().min(1).max(100),
  application_type: z
    .enum(['web', 'native'])
    .default('web')
    .describe("`native` for apps on people's devices: custom-scheme or loopback redirect URIs (RFC 8252)"),
  redirect_uris: z.array(z.url()).max(20).default([]),
  post_logout_redirect_uris: z.array(z.url()).max(20).default([]),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).default(['authorization_code', 'refresh_token']),
  token_endpoint_auth_method: z.enum(AUTH_METHODS).default('client_secret_basic'),
  scope: z.string().max(500).optional(),
  backchannel_logout_uri: z
    .url()
    .optional()
    .describe('OpenID Connect Back-Channel Logout 1.0: where logout tokens are POSTed'),
  backchannel_logout_session_required: z
    .boolean()
    .default(false)
    .describe('Logout tokens (and ID tokens) carry the session id `sid`'),
  ...appLinkFields,
});

/** What an owner chooses about a client; who owns it and whether it is first-party is not theirs to say. */
export type ClientInput = Pick<
  ClientRegistration,
  | 'name'
  | 'applicationType'
  | 'redirectUris'
  | 'postLogoutRedirectUris'
  | 'grantTypes'
  | 'authMethod'
  | 'scope'
  | 'backchannelLogoutUri'
  | 'backchannelLogoutSessionRequired'
  | 'appLinks'
>;

export function clientInputOf(body: z.output<typeof clientRegistrationBody>): ClientInput {
  return {
    name: body.client_name,
    applicationType: body.application_type,
    redirectUris: body.redirect_uris,
    postLogoutRedirectUris: body.post_logout_redirect_uris,
    grantTypes: body.grant_types,
    authMethod: body.token_endpoint_auth_method,
    scope: body.scope,
    backchannelLogoutUri: body.backchannel_logout_uri,
    backchannelLogoutSessionRequired: body.backchannel_logout_session_required,
    appLinks: linksOf(body),
  };
}

/** A client as /api shows it: never its secret's hash, nor who owns it (the caller knows). */
export function presentClient(client: ClientMetadata): z.input<typeof clientSchema> {
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    application_type: client.application_type ?? 'web',
    redirect_uris: client.redirect_uris ?? [],
    post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
    grant_types: client.grant_types,
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    scope: client.scope,
    backchannel_logout_uri: client.backchannel_logout_uri,
    backchannel_logout_session_required: client.backchannel_logout_session_required ?? false,
    logo_uri: typeof client.logo_uri === 'string' ? client.logo_uri : undefined,
    client_uri: typeof client.client_uri === 'string' ? client.client_uri : undefined,
    policy_uri: typeof client.policy_uri === 'string' ? client.policy_uri : undefined,
    tos_uri: typeof client.tos_uri === 'string' ? client.tos_uri : undefined,
  };
}

/** The answer to a registration or a rotation: the client, with the secret in clear this once. */
export function presentWithSecret(result: { metadata: ClientMetadata; clientSecret?: string | undefined }) {
  return { ...presentClient(result.metadata), ...(result.clientSecret ? { client_secret: result.clientSecret } : {}) };
}
