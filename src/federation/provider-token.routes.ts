import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { timestamp } from '../http/api-schemas.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { callerOf, requirePerson } from '../oidc/caller.ts';
import { PROVIDER_TOKENS_SCOPE } from '../oidc/api-resource.ts';
import type { ProviderTokenService } from './provider-token.service.ts';

/**
 * `/api/provider-token/{provider}`: the person's own upstream access token, for an app they allowed
 * `provider_tokens`. The account is always the token's subject, so no app can ask for anyone else's.
 */
export function providerTokenRoutes(service: ProviderTokenService): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/provider-token/:provider',
      summary:
        "A currently valid access token of the person's account at an upstream sign-in provider (refreshed first when it is about to expire)",
      tag: 'Account',
      scopes: [PROVIDER_TOKENS_SCOPE],
      params: z.object({
        provider: z
          .string()
          .regex(/^[a-z0-9-]{1,40}$/)
          .describe('The provider id: google, github, facebook, or a configured generic provider'),
      }),
      response: z.object({
        provider: z.string(),
        access_token: z.string(),
        token_type: z.literal('Bearer'),
        expires_at: timestamp.nullable().describe('Null when the provider gave no expiry'),
        scopes: z.array(z.string()),
      }),
      async handler(ctx, { params }) {
        const actor = {
          accountId: requirePerson(ctx.state),
          clientId: callerOf(ctx.state).clientId,
          origin: requestOrigin(ctx),
        };
        const token = await service.serve(actor, params.provider);
        // RFC 6749 5.1: an answer carrying a token is never cached.
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Pragma', 'no-cache');
        return token;
      },
    }),
  ];
}
