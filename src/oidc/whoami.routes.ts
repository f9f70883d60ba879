import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { callerOf } from './caller.ts';

/**
 * `/api/whoami`: what the API makes of the presented token, for people and machine clients alike.
 * Apps use it to check a token; it touches no storage, so it is also the guard's own benchmark.
 */
export function whoamiRoutes(): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/whoami',
      summary: 'Describe the presented access token: subject, client, scopes, organization',
      tag: 'Account',
      scopes: [],
      response: z.object({
        sub: z.string(),
        client_id: z.string(),
        scope: z.string(),
        account_id: z.string().nullable(),
        org_id: z.string().nullable(),
        org_role: z.string().nullable(),
        exp: z.number().int(),
      }),
      async handler(ctx) {
        const caller = callerOf(ctx.state);
        return {
          sub: caller.sub,
          client_id: caller.clientId,
          scope: [...caller.scopes].join(' '),
          account_id: caller.accountId ?? null,
          org_id: caller.organization?.id ?? null,
          org_role: caller.organization?.role ?? null,
          exp: caller.expiresAt,
        };
      },
    }),
  ];
}
