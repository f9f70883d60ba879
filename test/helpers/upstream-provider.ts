import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { type CryptoKey, decodeJwt, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { Context } from 'koa';
import Provider from 'oidc-provider';
import { land, type Landing } from './authorization.ts';
import { csrfToken, formAction, PageClient } from './page-client.ts';

/** The person signed in at the upstream: its claims, as the upstream's userinfo and ID tokens give them. */
export type UpstreamPerson = { sub: string; email?: string; email_verified?: unknown; name?: string };

type Key = { privateKey: CryptoKey; kid: string };

/**
 * A real OpenID provider (a bare oidc-provider instance) on its own loopback address, standing in for
 * an upstream such as a company's identity provider or Google. Its login and consent answer at once
 * for `person`; the test can deny the request, make its token endpoint fail, rewrite the ID token it
 * issues (re-signed with its own key or any other), and publish further keys.
 */
export async function startUpstream(t: ExecutionContext, host = '127.0.0.2') {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const signingKey = await newKey('upstream-1');
  const state = {
    person: { sub: 'upstream-person-1' } as UpstreamPerson,
    /** An authorization error the upstream answers with instead of signing the person in. */
    deny: undefined as { error: string; error_description?: string } | undefined,
    tokenRequests: 0,
    /** Refresh token grants answered (provider tokens); `refuseRefresh` answers them invalid_grant, as after a revocation. */
    refreshRequests: 0,
    refuseRefresh: false,
    tokenStatus: undefined as number | undefined,
    /** The token endpoint accepts the request and never answers (an outage that a timeout must end). */
    hangToken: false,
    rewriteIdToken: undefined as ((idToken: string) => Promise<string>) | undefined,
    extraKeys: [] as JWK[],
  };
  let provider: Provider | undefined;
  server.on('request', (req, res) => {
    if (provider) return provider.callback()(req, res);
    res.statusCode = 503;
    res.end();
  });

  return {
    issuer,
    state,
    signingKey,

    /** Registers FairyID as this provider's client and starts answering. */
    async register(client: { clientId: string; clientSecret: string; redirectUri: string }) {
      const jwk = { ...(await exportJWK(signingKey.privateKey)), kid: signingKey.kid, alg: 'RS256', use: 'sig' };
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: client.clientId,
            client_secret: client.clientSecret,
            redirect_uris: [client.redirectUri],
            // A refresh token is issued only for offline_access (FEDERATION_<ID>_OFFLINE_ACCESS).
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        jwks: { keys: [jwk as never] },
        cookies: { keys: ['upstream-test-cookie-key-0123456789abcdef'] },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ ...state.person, sub }) }),
        features: { devInteractions: { enabled: false } },
        ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60 },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      });
      const current = provider;
      current.use(async (ctx, next) => {
        if (ctx.path.startsWith('/interaction/')) return answerInteraction(current, ctx, state);
        if (ctx.path === '/token' && ctx.method === 'POST') {
          state.tokenRequests += 1;
          if (state.hangToken) return new Promise<never>(() => {});
          if (state.tokenStatus) {
            ctx.status = state.tokenStatus;
            ctx.body = { error: 'server_error', error_description: 'the upstream failed' };
            return;
          }
          await next();
          if (ctx.oidc?.params?.grant_type === 'refresh_token') {
            state.refreshRequests += 1;
            if (state.refuseRefresh) {
              ctx.status = 400;
              ctx.body = { error: 'invalid_grant', error_description: 'grant request is invalid' };
              return;
            }
          }
          const body = ctx.body as { id_token?: string } | undefined;
          if (state.rewriteIdToken && body?.id_token) body.id_token = await state.rewriteIdToken(body.id_token);
          return;
        }
        await next();
        if (ctx.path === '/jwks' && state.extraKeys.length) {
          const body = ctx.body as { keys: JWK[] };
          ctx.body = { keys: [...body.keys, ...state.extraKeys] };
        }
      });
    },

    /** A token with these claims, signed by `key` (the upstream's own unless another is given). */
    sign(claims: JWTPayload, key: Key = signingKey, alg = 'RS256') {
      return new SignJWT(claims).setProtectedHeader({ alg, kid: key.kid }).sign(key.privateKey);
    },

    /** Makes the next ID tokens carry `change(claims)`, re-signed with the upstream's own key. */
    rewriteClaims(change: (claims: JWTPayload) => JWTPayload) {
      state.rewriteIdToken = async (idToken) => this.sign(change(decodeJwt(idToken)));
    },

    /** A new signing key, and its public half for the JWKS. */
    async addKey(kid: string) {
      const key = await newKey(kid);
      const { d: _private, ...publicJwk } = await exportJWK(key.privateKey);
      state.extraKeys.push({ ...publicJwk, kid, alg: 'RS256', use: 'sig' });
      return key;
    },
  };
}

export async function newKey(kid: string): Promise<Key> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, kid };
}

/** The upstream's login and consent pages, answered at once: the person is `state.person` and allows everything. */
async function answerInteraction(
  provider: Provider,
  ctx: Context,
  state: { person: UpstreamPerson; deny: { error: string; error_description?: string } | undefined },
) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result: Parameters<Provider['interactionResult']>[2];
  if (state.deny) result = state.deny;
  else if (details.prompt.name === 'login') result = { login: { accountId: state.person.sub } };
  else {
    const grant = new provider.Grant({
      accountId: String(details.session?.accountId),
      clientId: String(details.params.client_id),
    });
    grant.addOIDCScope(String(details.params.scope));
    result = { consent: { grantId: await grant.save() } };
  }
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
}

/**
 * From FairyID's sign-in page, "Continue with …" `provider`: through the upstream (in its own
 * browser jar, it being another site) and back to FairyID's callback, which `edit` may tamper
 * with first. Returns where FairyID's pages then land.
 */
export async function continueWith(
  fairy: PageClient,
  signIn: Landing,
  provider: string,
  edit: (callback: URL) => URL = (callback) => callback,
): Promise<Landing & { callback: URL }> {
  const started = await fairy.follow(
    new URL(formAction(signIn.html, `/federation/start/${provider}`), signIn.url).href,
    {
      form: { _csrf: csrfToken(signIn.html) },
    },
  );
  if (started.url.origin === new URL(fairy.baseUrl).origin)
    return { ...(await readLanding(started)), callback: started.url };
  const upstream = new PageClient(started.url.origin);
  const { url: callback } = await upstream.follow(started.url.href);
  return { ...(await land(fairy, edit(callback).href)), callback };
}

async function readLanding(followed: { response: Response; url: URL }): Promise<Landing> {
  return { ...followed, html: await followed.response.text() };
}
