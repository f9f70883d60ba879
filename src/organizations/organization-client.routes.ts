import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import {
  appLinkFields,
  clientInputOf,
  clientRegistrationBody,
  clientSchema,
  clientWithSecretSchema,
  linksOf,
  presentClient,
  presentWithSecret,
} from '../oidc/client-schemas.ts';
import type { OrganizationClientService } from './organization-client.service.ts';

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
      body: clientRegistrationBody,
      response: clientWithSecretSchema,
      status: 201,
      async handler(ctx, { params, body }) {
        return presentWithSecret(await clients.register(person(ctx.state), params.id, clientInputOf(body)));
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
        return { data: (await clients.list(person(ctx.state), params.id)).map(presentClient) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/organizations/:id/clients/:clientId/secret',
      summary: 'Rotate a client secret: the new one is shown once and the old one stops working',
      tag: 'Clients',
      scopes: ['organizations:write'],
      params: clientParams,
      response: clientWithSecretSchema,
      async handler(ctx, { params }) {
        return presentWithSecret(await clients.rotateSecret(person(ctx.state), params.id, params.clientId));
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
        return presentClient(
          await clients.updateAppLinks(person(ctx.state), params.id, params.clientId, linksOf(body)),
        );
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
