import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { KeyValueStore } from '../db/key-value.ts';
import { satisfies } from '../oidc/authentication-policy.ts';
import { addFactor, type Method } from '../interaction/authentication-methods.ts';
import type { ClientRegistry } from '../oidc/client-registry.ts';
import type { SecondStepRemembered } from './remembered-browser-cookie.ts';

/** Our own hosted pages (invitations, the account pages) sign people in as this first-party client. */
export const PAGES_CLIENT_ID = 'fairyid-pages';
const RETURN_TTL = 3600;
const RECENT_SIGN_IN_SECONDS = 300;

/** A provider session that has met its account's sign-in policy. */
export type SignedIn = {
  accountId: string;
  /** The session's stable uid (its id changes at each sign-in). */
  sessionUid: string;
  acr: string | undefined;
  amr: string[];
  /** When the person last proved who they are, in seconds since the epoch. */
  loginTs: number;
  /** Our pages' grant in this session, when they signed in through it: signing out revokes it. */
  pagesGrantId: string | undefined;
};

export type SignInOptions = {
  loginHint?: string | undefined;
  /** Ask for the first factor again even with a live session (recent re-authentication). */
  forceLogin?: boolean;
  /** Ask for at least this authentication context (`mfa`: a second factor, enrolled on the spot if need be). */
  acrValues?: 'mfa' | 'phr';
};

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
export function createPageSession(deps: {
  provider: () => Provider;
  kv: KeyValueStore;
  issuer: string;
  requiresSecondFactor(accountId: string): Promise<boolean>;
  /** The MFA policy's remembered browser (remembered-browser-cookie.ts): our pages follow the same rule. */
  secondStepRemembered: SecondStepRemembered;
}) {
  const signedIn = async (ctx: Context): Promise<SignedIn | undefined> => {
    const session = await deps.provider().Session.get(ctx as never);
    const { accountId } = session;
    if (!accountId) return undefined;
    // A session stopped between its first and second factor is not signed in to our pages either.
    if (
      !satisfies(session.acr, 'mfa') &&
      (await deps.requiresSecondFactor(accountId)) &&
      !(await deps.secondStepRemembered(ctx, accountId))
    )
      return undefined;
    return {
      accountId,
      sessionUid: session.uid,
      acr: session.acr,
      amr: session.amr ?? [],
      loginTs: session.loginTs ?? 0,
      // Read, not through authorizationFor(), which would add an empty entry to the session.
      pagesGrantId: session.authorizations?.[PAGES_CLIENT_ID]?.grantId,
    };
  };

  const signInUrl = async (returnTo: string, options: SignInOptions = {}): Promise<string> => {
    const state = randomBytes(16).toString('base64url');
    await deps.kv.write([{ op: 'set', key: `page-return:${state}`, value: returnTo, ttlSeconds: RETURN_TTL }]);
    const url = new URL('/auth', deps.issuer);
    url.search = new URLSearchParams({
      client_id: PAGES_CLIENT_ID,
      response_type: 'none',
      scope: 'openid',
      redirect_uri: `${deps.issuer}/signed-in`,
      state,
      ...(options.forceLogin ? { prompt: 'login' } : {}),
      ...(options.loginHint ? { login_hint: options.loginHint } : {}),
      ...(options.acrValues ? { acr_values: options.acrValues } : {}),
    }).toString();
    return url.href;
  };

  return {
    signedIn,
    signInUrl,

    async accountId(ctx: Context): Promise<string | undefined> {
      return (await signedIn(ctx))?.accountId;
    },

    /** The signed-in person, or a redirect to sign in and come back to `returnTo`. */
    async require(ctx: Context, returnTo: string): Promise<SignedIn | undefined> {
      const current = await signedIn(ctx);
      if (!current) ctx.redirect(await signInUrl(returnTo));
      return current;
    },

    /**
     * For changes that weaken an account (removing its last factor, say): the person must have
     * proved who they are within `maxAgeSeconds`, else they sign in again and come back.
     */
    async requireRecent(
      ctx: Context,
      returnTo: string,
      maxAgeSeconds = RECENT_SIGN_IN_SECONDS,
    ): Promise<SignedIn | undefined> {
      const current = await signedIn(ctx);
      if (current && Date.now() / 1000 - current.loginTs <= maxAgeSeconds) return current;
      ctx.redirect(await signInUrl(returnTo, { forceLogin: true }));
      return undefined;
    },

    /**
     * A factor the person has just proved on our pages (typing the new app's code, say) counts for
     * the session they proved it in: turning on two-step sign-in does not sign them out of their
     * own account page, and the session's amr/acr say what it really holds.
     */
    async recordFactor(ctx: Context, method: Method): Promise<void> {
      const session = await deps.provider().Session.get(ctx as never);
      if (!session.accountId || typeof session.exp !== 'number') return;
      const { amr, acr } = addFactor(session.amr, method);
      session.amr = amr;
      session.acr = acr;
      await session.persist();
    },

    routes() {
      const router = new Router();
      router.get('/signed-in', async (ctx) => {
        const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
        const returnTo = state ? await deps.kv.get(`page-return:${state}`) : null;
        if (state) await deps.kv.del(`page-return:${state}`);
        // A cancelled sign-in (access_denied) or one that failed must not go back to the page that
        // asked for it: that page would only ask again, and "Cancel" would open a new sign-in page.
        if (typeof ctx.query.error === 'string') {
          ctx.redirect(ctx.query.error === 'access_denied' ? '/?sign-in=cancelled' : '/?sign-in=failed');
          return;
        }
        // Only our own paths: an attacker-made state never leads off-site.
        ctx.redirect(returnTo?.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/');
      });
      return router.routes();
    },
  };
}

export type PageSession = ReturnType<typeof createPageSession>;
