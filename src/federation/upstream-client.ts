import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
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

  constructor(
    readonly reason: 'denied' | 'refused' | 'unavailable',
    readonly upstreamDescription: string | undefined,
    options: { cause: unknown },
  ) {
    super(`upstream sign-in ${reason}`, options);
  }
}

const DISCOVERY_MAX_AGE_MS = 3600_000;
const SCOPE = 'openid email profile';

/**
 * One upstream OpenID provider through openid-client: discovery (cached for an hour, retried after
 * a failure), the authorization URL with state, nonce and PKCE, and the callback, whose `state`
 * and RFC 9207 `iss` openid-client checks before it redeems the code. The ID token then passes
 * our own stricter checks (id-token-checks.ts).
 */
export function createUpstreamClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number; clock: Clock },
) {
  let discovered: { at: number; config: Promise<oidc.Configuration>; keys: Promise<JWTVerifyGetKey> } | undefined;

  const discover = () => {
    const now = options.clock.now();
    if (discovered && now - discovered.at < DISCOVERY_MAX_AGE_MS) return discovered;
    const config = oidc.discovery(
      new URL(settings.issuer),
      settings.clientId,
      { redirect_uris: [options.redirectUri], response_types: ['code'] },
      oidc.ClientSecretBasic(settings.clientSecret),
      {
        timeout: options.timeoutSeconds,
        // Plain http is only ever configured for a loopback issuer (config.ts), and never in production.
        execute: settings.issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : [],
      },
    );
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

  return {
    settings,

    async authorizationUrl(): Promise<{ url: URL; flow: UpstreamFlow }> {
      const config = await upstreamCall(() => discover().config);
      const flow = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        scope: SCOPE,
        // OpenID Connect Core 11: a refresh token (offline_access) is asked for with prompt=consent.
        ...offlineAccess(settings),
        state: flow.state,
        nonce: flow.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, flow };
    },

    /** The answer that came back to the redirect URI (its query parameters), for the flow it belongs to. */
    async redeem(response: URLSearchParams, flow: UpstreamFlow): Promise<UpstreamIdentity> {
      const { config, keys } = discover();
      const resolved = await upstreamCall(() => config);
      const callback = new URL(options.redirectUri);
      callback.search = response.toString();
      const tokens = await upstreamCall(() =>
        oidc.authorizationCodeGrant(resolved, callback, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        }),
      );
      const claims = await upstreamCall(async () =>
        verifyIdToken(String(tokens.id_token), await keys, {
          issuer: resolved.serverMetadata().issuer,
          audience: settings.clientId,
          accessToken: tokens.access_token,
          now: options.clock.now(),
        }),
      );
      const subject = String(claims.sub);
      // Claims for the email and profile scopes may come only from userinfo (OpenID Connect Core 5.4).
      const profile =
        claims.email === undefined && resolved.serverMetadata().userinfo_endpoint
          ? await upstreamCall(() => oidc.fetchUserInfo(resolved, tokens.access_token, subject))
          : claims;
      return {
        subject,
        email: typeof profile.email === 'string' ? profile.email.toLowerCase() : null,
        // OpenID Connect Core 5.1: a boolean. A missing claim or the string "true" verifies nothing.
        emailVerified: profile.email_verified === true,
        name: typeof profile.name === 'string' ? profile.name.slice(0, 200) : null,
        tokens: upstreamTokens(tokens),
      };
    },

    /** A fresh access token for a kept refresh token (RFC 6749 6). */
    async refresh(refreshToken: string, scope: string | undefined): Promise<UpstreamTokens> {
      const resolved = await upstreamCall(() => discover().config);
      return refreshAt(resolved, refreshToken, { refreshToken, scope });
    },
  };
}

/** The authorization parameters that ask for a refresh token, when the provider is set up to keep one. */
function offlineAccess(settings: UpstreamProviderSettings): Record<string, string> {
  if (!settings.offlineAccess) return {};
  // Google asks with its own parameter rather than the offline_access scope.
  if (settings.kind === 'google') return { access_type: 'offline', prompt: 'consent' };
  return { scope: `${SCOPE} offline_access`, prompt: 'consent' };
}

export type UpstreamClient = ReturnType<typeof createUpstreamClient>;

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
    const reason = error.error === 'access_denied' ? 'denied' : 'refused';
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
    (error instanceof TypeError && error.message === 'fetch failed') ||
    (cause instanceof Response && cause.status >= 500) ||
    error instanceof joseErrors.JWKSTimeout;
  return new UpstreamFailure(unreachable ? 'unavailable' : 'refused', undefined, { cause: error });
}
