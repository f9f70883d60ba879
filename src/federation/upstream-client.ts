import { createRemoteJWKSet, decodeJwt, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import type { UpstreamProviderSettings } from '../config.ts';
import type { Clock } from '../shared/clock.ts';
import { IdTokenRefused, verifyIdToken } from './id-token-checks.ts';
import { refreshAt, type UpstreamTokens, upstreamTokens } from './upstream-tokens.ts';

/** What one authorization request must remember until its answer comes back. */
export type UpstreamFlow = { state: string; nonce: string; codeVerifier: string };

/** Who the upstream says signed in. `emailVerified` is true only for the boolean `true`. */
export type UpstreamIdentity = {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** What the upstream's token endpoint gave, kept for apps the person allows (provider-token.service.ts). */
  tokens?: UpstreamTokens;
};

/**
 * Why an upstream sign-in did not complete: the person said no at the upstream (`denied`), its
 * answer failed a check or was an error (`refused`, with the upstream's own words when it gave
 * any), or it could not be reached in time (`unavailable`).
 */
export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure';

  readonly reason: 'denied' | 'refused' | 'unavailable';
  readonly upstreamDescription: string | undefined;

  constructor(
    reason: 'denied' | 'refused' | 'unavailable',
    upstreamDescription: string | undefined,
    options: { cause: unknown },
  ) {
    super(`upstream sign-in ${reason}`, options);
    this.reason = reason;
    this.upstreamDescription = upstreamDescription;
  }
}

const DISCOVERY_MAX_AGE_MS = 3600_000;

/** What an OpenID provider's callback answer may carry to openid-client (RFC 6749 4.1.2, RFC 9207). */
const ANSWER_PARAMETERS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri'];

/** Entra's (and any issuer's) tenant ids are GUIDs: anything else in `tid` names no tenant. */
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What sets one OpenID provider apart (Microsoft, Apple), beside the generic one configured by its
 * issuer URL: how FairyID authenticates at its token endpoint, what it asks for, and how the
 * verified ID token says who signed in.
 */
export type OpenIdProfile = {
  scope: string;
  clientAuth: oidc.ClientAuth;
  /** `form_post` (Apple): the answer comes back as a POST to the redirect URI, not in its query. */
  responseMode?: 'form_post';
  /**
   * The discovery document's own URL, for a provider whose discovered issuer is not the URL it is
   * read from (Microsoft's `common` names `…/{tenantid}/v2.0`); `acceptsIssuer` then checks it.
   */
  discoveryUrl?: string;
  acceptsIssuer?(issuer: string): boolean;
  /**
   * Who signed in, from the ID token's verified claims; `answer` is the callback's answer (Apple
   * sends the person's name only there), `userInfo` reads the provider's userinfo endpoint.
   */
  identify(
    claims: JWTPayload,
    from: { answer: URLSearchParams; userInfo: () => Promise<Record<string, unknown>> },
  ): UpstreamIdentity | Promise<UpstreamIdentity>;
};

/** A generic OpenID provider (and Google): `openid email profile`, `client_secret_basic`, userinfo when needed. */
export function genericProfile(settings: UpstreamProviderSettings): OpenIdProfile {
  return {
    scope: 'openid email profile',
    clientAuth: oidc.ClientSecretBasic(settings.clientSecret),
    async identify(claims, { userInfo }) {
      // Claims for the email and profile scopes may come only from userinfo (OpenID Connect Core 5.4).
      const profile = claims.email === undefined ? await userInfo() : claims;
      return {
        subject: String(claims.sub),
        email: typeof profile.email === 'string' ? profile.email.toLowerCase() : null,
        // OpenID Connect Core 5.1: a boolean. A missing claim or the string "true" verifies nothing.
        emailVerified: profile.email_verified === true,
        name: typeof profile.name === 'string' ? profile.name.slice(0, 200) : null,
      };
    },
  };
}

/**
 * One upstream OpenID provider through openid-client: discovery (cached for an hour, retried after
 * a failure), the authorization URL with state, nonce and PKCE, and the callback, whose `state`
 * and RFC 9207 `iss` openid-client checks before it redeems the code. The ID token then passes
 * our own stricter checks (id-token-checks.ts).
 */
export function createUpstreamClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number; clock: Clock },
  profile: OpenIdProfile = genericProfile(settings),
): UpstreamClient {
  let discovered: { at: number; config: Promise<oidc.Configuration>; keys: Promise<JWTVerifyGetKey> } | undefined;
  // Plain http is only ever configured for a loopback issuer (config.ts), and never in production.
  const insecure = settings.issuer.startsWith('http://');
  const clientMetadata = { redirect_uris: [options.redirectUri], response_types: ['code'] };

  /** A configuration for `metadata` as discovered, or with another issuer (a tenant's, see below). */
  const configure = (metadata: oidc.ServerMetadata, fetch?: oidc.CustomFetch) => {
    const config = new oidc.Configuration(metadata, settings.clientId, clientMetadata, profile.clientAuth);
    config.timeout = options.timeoutSeconds;
    if (insecure) oidc.allowInsecureRequests(config);
    if (fetch) config[oidc.customFetch] = fetch;
    return config;
  };

  const discover = () => {
    const now = options.clock.now();
    if (discovered && now - discovered.at < DISCOVERY_MAX_AGE_MS) return discovered;
    // From the issuer, openid-client checks that the document names it; from a document's own URL it
    // does not, and `acceptsIssuer` must.
    const config = oidc
      .discovery(
        new URL(profile.discoveryUrl ?? settings.issuer),
        settings.clientId,
        clientMetadata,
        profile.clientAuth,
        {
          timeout: options.timeoutSeconds,
          execute: insecure ? [oidc.allowInsecureRequests] : [],
        },
      )
      .then((resolved) => {
        const { issuer } = resolved.serverMetadata();
        if (profile.discoveryUrl && !profile.acceptsIssuer?.(issuer)) {
          throw new UpstreamFailure('refused', undefined, {
            cause: new Error(`${profile.discoveryUrl} names the issuer ${issuer}`),
          });
        }
        return resolved;
      });
    const keys = config.then((resolved) => {
      const jwksUri = resolved.serverMetadata().jwks_uri;
      if (!jwksUri) throw new Error(`${settings.issuer} publishes no jwks_uri`);
      // No cooldown: a token signed with a key we have not seen makes one refetch (the upstream rotated).
      return createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: options.timeoutSeconds * 1000,
        cooldownDuration: 0,
      });
    });
    const entry = { at: now, config, keys };
    discovered = entry;
    // A failed discovery is forgotten, so the next sign-in tries again.
    Promise.all([config, keys]).catch(() => {
      if (discovered === entry) discovered = undefined;
    });
    return entry;
  };

  /**
   * The code grant for an issuer that depends on the tenant (Entra's `common` and `organizations`
   * discover `https://login.microsoftonline.com/{tenantid}/v2.0`; each ID token's `iss` names its
   * own tenant, the `tid` it carries). openid-client recognises this only for discovery from
   * login.microsoftonline.com itself, so we do the same for any host: the token response is read
   * once, then handed to openid-client for the configuration with the tenant's issuer, which checks
   * the ID token (and the error, if any) as it would any other. A token whose `iss` names another
   * tenant than its `tid` fails that check, and ours after it.
   */
  const grantWithTenantIssuer = async (
    resolved: oidc.Configuration,
    callback: URL,
    checks: Parameters<typeof oidc.authorizationCodeGrant>[2],
  ) => {
    const { supportsPKCE: _helper, ...metadata } = resolved.serverMetadata();
    let held: { status: number; headers: Headers; body: string } | undefined;
    const probe = configure(metadata, async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      held = { status: response.status, headers: response.headers, body: await response.text() };
      throw new Error('token response held for the tenant issuer');
    });
    try {
      // Checks the answer (state, iss, error) before the code is redeemed, as for any provider.
      await oidc.authorizationCodeGrant(probe, callback, checks);
    } catch (error) {
      if (!held) throw error;
    }
    const answer = held as { status: number; headers: Headers; body: string };
    const tenant = tenantOf(answer.body);
    const replay = configure(
      { ...metadata, issuer: tenant ? metadata.issuer.replace('{tenantid}', tenant) : metadata.issuer },
      async () => new Response(answer.body, { status: answer.status, headers: answer.headers }),
    );
    return oidc.authorizationCodeGrant(replay, callback, checks);
  };

  return {
    settings,
    responseMode: profile.responseMode,

    async authorizationUrl(): Promise<{ url: URL; flow: UpstreamFlow }> {
      const config = await upstreamCall(() => discover().config);
      const flow = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope: profile.scope,
        ...(profile.responseMode ? { response_mode: profile.responseMode } : {}),
        // OpenID Connect Core 11: a refresh token (offline_access) is asked for with prompt=consent.
        ...offlineAccess(settings, profile.scope),
        state: flow.state,
        nonce: flow.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, flow };
    },

    /** The answer that came back to the redirect URI (its query or posted form), for the flow it belongs to. */
    async redeem(response: URLSearchParams, flow: UpstreamFlow): Promise<UpstreamIdentity> {
      const { config, keys } = discover();
      const resolved = await upstreamCall(() => config);
      const callback = new URL(options.redirectUri);
      for (const name of ANSWER_PARAMETERS) {
        for (const value of response.getAll(name)) callback.searchParams.append(name, value);
      }
      const checks = {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      };
      const template = resolved.serverMetadata().issuer.includes('{tenantid}');
      const tokens = await upstreamCall(() =>
        template
          ? grantWithTenantIssuer(resolved, callback, checks)
          : oidc.authorizationCodeGrant(resolved, callback, checks),
      );
      const claims = await upstreamCall(async () => {
        const issued = tokens.claims();
        const tenant = typeof issued?.tid === 'string' && TENANT_ID.test(issued.tid) ? issued.tid : undefined;
        const issuer = resolved.serverMetadata().issuer;
        if (template && !tenant) throw new IdTokenRefused('ID token refused: no tenant (tid) for a tenant issuer');
        return verifyIdToken(String(tokens.id_token), await keys, {
          issuer: template ? issuer.replace('{tenantid}', String(tenant)) : issuer,
          audience: settings.clientId,
          accessToken: tokens.access_token,
          now: options.clock.now(),
        });
      });
      const identity = await upstreamCall(async () =>
        profile.identify(claims, {
          answer: response,
          userInfo: async () =>
            resolved.serverMetadata().userinfo_endpoint
              ? oidc.fetchUserInfo(resolved, tokens.access_token, String(claims.sub))
              : {},
        }),
      );
      return { ...identity, tokens: upstreamTokens(tokens) };
    },

    /** A fresh access token for a kept refresh token (RFC 6749 6). */
    async refresh(refreshToken: string, scope: string | undefined): Promise<UpstreamTokens> {
      const resolved = await upstreamCall(() => discover().config);
      return refreshAt(resolved, refreshToken, { refreshToken, scope });
    },
  };
}

/** The authorization parameters that ask for a refresh token, when the provider is set up to keep one. */
function offlineAccess(settings: UpstreamProviderSettings, scope: string): Record<string, string> {
  if (!settings.offlineAccess) return {};
  // Google asks with its own parameter rather than the offline_access scope.
  if (settings.kind === 'google') return { access_type: 'offline', prompt: 'consent' };
  return { scope: `${scope} offline_access`, prompt: 'consent' };
}

/** The tenant the (not yet verified) ID token in a token response names, if it names one. */
function tenantOf(body: string): string | undefined {
  try {
    const { id_token: idToken } = JSON.parse(body) as { id_token?: unknown };
    const tid = typeof idToken === 'string' ? decodeJwt(idToken).tid : undefined;
    return typeof tid === 'string' && TENANT_ID.test(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** One enabled upstream provider, OpenID or OAuth-2-only: the request it sends people with, and its answer. */
export type UpstreamClient = {
  settings: UpstreamProviderSettings;
  /** `form_post`: the answer is POSTed to the redirect URI (Apple); otherwise it comes in the query. */
  responseMode?: 'form_post' | undefined;
  authorizationUrl(): Promise<{ url: URL; flow: UpstreamFlow }>;
  /** The answer that came back to the redirect URI (its query or posted form), for the flow it belongs to. */
  redeem(response: URLSearchParams, flow: UpstreamFlow): Promise<UpstreamIdentity>;
  /** A fresh access token for a kept refresh token (RFC 6749 6). */
  refresh(refreshToken: string, scope: string | undefined): Promise<UpstreamTokens>;
};

/** Runs one exchange with the upstream and names what went wrong in the terms the pages use (also GitHub's). */
export async function upstreamCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classify(error);
  }
}

function classify(error: unknown): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (error instanceof oidc.AuthorizationResponseError) {
    // Apple says `user_cancelled_authorize` where RFC 6749 says `access_denied`.
    const reason = ['access_denied', 'user_cancelled_authorize'].includes(error.error) ? 'denied' : 'refused';
    return new UpstreamFailure(reason, error.error_description ?? error.error, { cause: error });
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new UpstreamFailure(error.status >= 500 ? 'unavailable' : 'refused', error.error_description, {
      cause: error,
    });
  }
  if (error instanceof IdTokenRefused) return new UpstreamFailure('refused', undefined, { cause: error });
  const cause = (error as { cause?: unknown }).cause;
  const unreachable =
    (error instanceof Error && ['TimeoutError', 'AbortError'].includes(error.name)) ||
    // openid-client wraps a request that ran out of time (an upstream that accepted and never answered).
    (error instanceof oidc.ClientError && error.code === 'OAUTH_TIMEOUT') ||
    (cause instanceof Error && cause.name === 'TimeoutError') ||
    (error instanceof TypeError && error.message === 'fetch failed') ||
    (cause instanceof Response && cause.status >= 500) ||
    error instanceof joseErrors.JWKSTimeout;
  return new UpstreamFailure(unreachable ? 'unavailable' : 'refused', undefined, { cause: error });
}
