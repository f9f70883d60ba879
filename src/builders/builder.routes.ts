import type { Context } from 'koa';
import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { callerOf, requirePerson } from '../oidc/caller.ts';
import {
  clientInputOf,
  clientRegistrationBody,
  clientSchema,
  clientWithSecretSchema,
  presentClient,
  presentWithSecret,
} from '../oidc/client-schemas.ts';
import type { BuilderActor, BuilderService } from './builder.service.ts';

const clientParams = z.object({ clientId: z.string().min(1).max(128) });

function actorOf(ctx: Context): BuilderActor {
  return { accountId: requirePerson(ctx.state), clientId: callerOf(ctx.state).clientId, origin: requestOrigin(ctx) };
}

/** `/api/clients`: a builder's own OAuth clients (scopes clients:read and clients:write). */
export function builderClientRoutes(builders: BuilderService): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/clients',
      summary: 'Register an OAuth client of your own (builders; up to BUILDER_CLIENTS_PER_PERSON)',
      tag: 'Your clients',
      scopes: ['clients:write'],
      body: clientRegistrationBody,
      response: clientWithSecretSchema,
      status: 201,
      async handler(ctx, { body }) {
        return presentWithSecret(await builders.register(actorOf(ctx), clientInputOf(body)));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/clients',
      summary: 'List the OAuth clients you registered',
      tag: 'Your clients',
      scopes: ['clients:read'],
      response: z.object({ data: z.array(clientSchema), limit: z.number().int() }),
      async handler(ctx) {
        const data = (await builders.list(requirePerson(ctx.state))).map(presentClient);
        return { data, limit: builders.clientsPerPerson };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/clients/:clientId',
      summary: 'One of your OAuth clients',
      tag: 'Your clients',
      scopes: ['clients:read'],
      params: clientParams,
      response: clientSchema,
      async handler(ctx, { params }) {
        return presentClient(await builders.get(requirePerson(ctx.state), params.clientId));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/clients/:clientId/secret',
      summary: 'Rotate your client secret: the new one is shown once and the old one stops working',
      tag: 'Your clients',
      scopes: ['clients:write'],
      params: clientParams,
      response: clientWithSecretSchema,
      async handler(ctx, { params }) {
        return presentWithSecret(await builders.rotateSecret(actorOf(ctx), params.clientId));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/clients/:clientId',
      summary: 'Delete one of your OAuth clients',
      tag: 'Your clients',
      scopes: ['clients:write'],
      params: clientParams,
      response: z.null(),
      status: 204,
      async handler(ctx, { params }) {
        await builders.remove(actorOf(ctx), params.clientId);
      },
    }),
  ];
}

/** The platform owner turns the builder flag on or off for an account. */
export function platformBuilderRoutes(builders: BuilderService): ApiRoute[] {
  return [
    defineRoute({
      method: 'put',
      path: '/api/platform/accounts/:id/builder',
      summary: 'Make an account a builder, or stop it being one (its clients stay, and stay its own)',
      tag: 'Platform',
      scopes: ['platform:manage'],
      params: z.object({ id: z.uuid() }),
      body: z.object({ builder: z.boolean() }),
      response: z.object({ account_id: z.string(), builder: z.boolean() }),
      async handler(ctx, { params, body }) {
        const account = await builders.setBuilderFor(actorOf(ctx), params.id, body.builder);
        return { account_id: account.id, builder: account.builder };
      },
    }),
  ];
}
