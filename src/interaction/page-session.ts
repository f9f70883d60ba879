import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { KeyValueStore } from '../db/key-value.ts';
import type { ClientRegistry } from '../oidc/client-registry.ts';

/** Our own hosted pages (invitations, later the account pages) sign people in as this first-party client. */
export const PAGES_CLIENT_ID = 'fairyid-pages';
const RETURN_TTL = 3600;

export async function ensurePagesClient(clients: ClientRegistry, issuer: string) {
  await clients.ensure({
    clientId: PAGES_CLIENT_ID,
    name: 'FairyID',
    redirectUris: [`${issuer}/signed-in`],
    postLogoutRedirectUris: [issuer],
    grantTypes: [],
    responseTypes: ['none'],
    authMethod: 'none',
    firstParty: true,
  });
}

/**
 * Who is signed in on our own pages: the provider's session, the same one relying parties rely on.
 * Signing in is an ordinary authorization request with response_type=none (no code to redeem: the
 * session cookie is the result), and the return address is kept server-side so it cannot be forged.
 */
export function createPageSession(deps: { provider: () => Provider; kv: KeyValueStore; issuer: string }) {
  return {
    async accountId(ctx: Context): Promise<string | undefined> {
      const session = await deps.provider().Session.get(ctx as never);
      return session.accountId;
    },

    async signInUrl(returnTo: string, loginHint?: string): Promise<string> {
      const state = randomBytes(16).toString('base64url');
      await deps.kv.write([{ op: 'set', key: `page-return:${state}`, value: returnTo, ttlSeconds: RETURN_TTL }]);
      const url = new URL('/auth', deps.issuer);
      url.search = new URLSearchParams({
        client_id: PAGES_CLIENT_ID,
        response_type: 'none',
        scope: 'openid',
        redirect_uri: `${deps.issuer}/signed-in`,
        state,
        prompt: 'login',
        ...(loginHint ? { login_hint: loginHint } : {}),
      }).toString();
      return url.href;
    },

    routes() {
      const router = new Router();
      router.get('/signed-in', async (ctx) => {
        const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
        const returnTo = state ? await deps.kv.get(`page-return:${state}`) : null;
        if (state) await deps.kv.del(`page-return:${state}`);
        // Only our own paths: an attacker-made state never leads off-site.
        ctx.redirect(returnTo && returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/');
      });
      return router.routes();
    },
  };
}

export type PageSession = ReturnType<typeof createPageSession>;
