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
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
        throw new RefreshRefused(error.error_description ?? 'invalid_grant', { cause: error });
      }
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
