import * as oidc from 'openid-client';
import { upstreamCall } from './upstream-client.ts';

/** What an upstream's token endpoint gave for the person: kept (sealed) for apps, see provider-token.service.ts. */
export type UpstreamTokens = {
  accessToken: string;
  /** Only when the upstream issues one (offline access, GitHub's expiring user tokens). */
  refreshToken: string | undefined;
  /** Seconds from the answer; undefined when the upstream does not say (the token does not expire). */
  expiresIn: number | undefined;
  /** The scopes granted, space-separated as RFC 6749 5.1 has it (GitHub's commas are made spaces). */
  scope: string | undefined;
};

/** The upstream refused a refresh token for good (RFC 6749 5.2 `invalid_grant`): only a new sign-in there helps. */
export class RefreshRefused extends Error {
  override name = 'RefreshRefused';
}

export function upstreamTokens(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) {
  const scope =
    typeof response.scope === 'string'
      ? response.scope
          .split(/[\s,]+/)
          .filter(Boolean)
          .join(' ')
      : '';
  return {
    accessToken: response.access_token,
    refreshToken: typeof response.refresh_token === 'string' ? response.refresh_token : undefined,
    expiresIn: response.expiresIn(),
    scope: scope || undefined,
  } satisfies UpstreamTokens;
}

// RFC 6749 5.2's invalid_grant; GitHub says bad_refresh_token (and answers it with a 200).
const REFUSED_FOR_GOOD = new Set(['invalid_grant', 'bad_refresh_token']);

/** The error code of a token endpoint's refusal: in a 4xx body (RFC 6749 5.2), or in a 200 body as GitHub sends it. */
function refusalCode(error: unknown): string | undefined {
  if (error instanceof oidc.ResponseBodyError) return error.error;
  if (error instanceof oidc.ClientError && error.code === 'OAUTH_INVALID_RESPONSE') {
    const body = (error.cause as { cause?: { body?: { error?: unknown } } } | undefined)?.cause?.body;
    return typeof body?.error === 'string' ? body.error : undefined;
  }
  return undefined;
}

/**
 * A refresh token grant at the upstream (RFC 6749 6). `invalid_grant` means the person revoked
 * the access or the token expired there (RefreshRefused); anything else is an UpstreamFailure,
 * worth another try later.
 */
export async function refreshAt(
  config: oidc.Configuration,
  refreshToken: string,
  previous: { refreshToken: string; scope: string | undefined },
): Promise<UpstreamTokens> {
  const response = await upstreamCall(async () => {
    try {
      return await oidc.refreshTokenGrant(config, refreshToken);
    } catch (error) {
      const code = refusalCode(error);
      if (code && REFUSED_FOR_GOOD.has(code)) throw new RefreshRefused(code, { cause: error });
      throw error;
    }
  }).catch((error: unknown) => {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof RefreshRefused) throw cause;
    throw error;
  });
  const tokens = upstreamTokens(response);
  // RFC 6749 6: the upstream may keep the refresh token (no new one) and the scope (none named).
  return {
    ...tokens,
    refreshToken: tokens.refreshToken ?? previous.refreshToken,
    scope: tokens.scope ?? previous.scope,
  };
}
