import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { OrganizationClientService } from './organization-client.service.ts';

const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

const clientSchema = z.object({
  client_id: z.string(),
  client_name: z.string().optional(),
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
const appLinkFields = {
  logo_uri: appLink("The app's logo, shown on the sign-in and consent pages (https)"),
  client_uri: appLink("The app's home page; its domain is shown on those pages (https)"),
  policy_uri: appLink("The app's privacy policy, linked from those pages (https)"),
  tos_uri: appLink("The app's terms of service, linked from those pages (https)"),
};

const linksOf = (body: Partial<Record<keyof typeof appLinkFields, string | undefined>>) =>
  Object.fromEntries(Object.entries(body).filter(([key, value]) => key in appLinkFields && value !== undefined));
const withSecret = clientSchema.extend({
  client_secret: z.string().optional().describe('Shown once: only its hash is kept'),
});

const present = (client: ClientMetadata) => ({
  client_id: client.client_id,
  client_name: client.client_name,
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
});

const idParams = z.object({ id: z.uuid() });
const clientParams = z.object({ id: z.uuid(), clientId: z.string().min(1).max(128) });

export function organizationClientRoutes(clients: OrganizationClientService): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/organizations/:id/clients',
      summary: 'Register an OAuth client owned by the organization (owner, admin; approved organizations)',
      tag: 'Clients',
      scopes: ['organizations:write'],
      params: idParams,
      body: z.object({
        client_name: z.string().trim().min(1).max(100),
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
      }),
      response: withSecret,
      status: 201,
      async handler(ctx, { params, body }) {
        const { metadata, clientSecret } = await clients.register(person(ctx.state), params.id, {
          name: body.client_name,
          redirectUris: body.redirect_uris,
          postLogoutRedirectUris: body.post_logout_redirect_uris,
          grantTypes: body.grant_types,
          authMethod: body.token_endpoint_auth_method,
          scope: body.scope,
          backchannelLogoutUri: body.backchannel_logout_uri,
          backchannelLogoutSessionRequired: body.backchannel_logout_session_required,
          appLinks: linksOf(body),
        });
        return { ...present(metadata), ...(clientSecret ? { client_secret: clientSecret } : {}) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations/:id/clients',
      summary: "List the organization's clients (owner, admin)",
      tag: 'Clients',
      scopes: ['organizations:read'],
      params: idParams,
      response: z.object({ data: z.array(clientSchema) }),
      async handler(ctx, { params }) {
        return { data: (await clients.list(person(ctx.state), params.id)).map(present) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/organizations/:id/clients/:clientId/secret',
      summary: 'Rotate a client secret: the new one is shown once and the old one stops working',
      tag: 'Clients',
      scopes: ['organizations:write'],
      params: clientParams,
      response: withSecret,
      async handler(ctx, { params }) {
        const { metadata, clientSecret } = await clients.rotateSecret(person(ctx.state), params.id, params.clientId);
        return { ...present(metadata), client_secret: clientSecret };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/organizations/:id/clients/:clientId',
      summary: "Change a client's logo, home page, policy and terms links (an empty string removes one)",
      tag: 'Clients',
      scopes: ['organizations:write'],
      params: clientParams,
      body: z.object(appLinkFields),
      response: clientSchema,
      async handler(ctx, { params, body }) {
        return present(await clients.updateAppLinks(person(ctx.state), params.id, params.clientId, linksOf(body)));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/organizations/:id/clients/:clientId',
      summary: 'Remove a client',
      tag: 'Clients',
      scopes: ['organizations:write'],
      params: clientParams,
      response: z.null(),
      status: 204,
      async handler(ctx, { params }) {
        await clients.remove(person(ctx.state), params.id, params.clientId);
      },
    }),
  ];
}
