import * as oidc from 'openid-client';
import type { Credentials } from './credentials.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { isLoopback } from './issuer.ts';

/** The public client FairyID registers for this CLI at start (device_code + refresh_token, no secret). */
export const DEFAULT_CLIENT_ID = 'fairy-cli';

/** Everything the commands call; `offline_access` for the refresh token that keeps the login alive. */
export const LOGIN_SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  'account:read',
  'organizations:read',
  'organizations:write',
  'dust:read',
  'environments:read',
  'environments:write',
  'environments:connect',
];

/** The RFC 8707 resource of FairyID's API: its tokens are the RFC 9068 JWTs that /api accepts. */
export const apiResource = (issuer: string) => `${issuer}/api`;

export async function discover(issuer: string, clientId: string): Promise<oidc.Configuration> {
  const url = new URL(issuer);
  try {
    return await oidc.discovery(
      url,
      clientId,
      undefined,
      oidc.None(),
      // normalizeIssuer allowed http only on loopback; openid-client needs to be told so too.
      url.protocol === 'http:' && isLoopback(url) ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
  } catch (error) {
    throw new CliError(`Cannot read FairyID's configuration at ${issuer}: ${describe(error)}`);
  }
}

/** A token endpoint or revocation error with its RFC 6749 code, or a network failure, as one sentence. */
export function describe(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError) {
    return error.error_description ? `${error.error}: ${error.error_description}` : error.error;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

export function oauthError(error: unknown): string | undefined {
  return error instanceof oidc.ResponseBodyError ? error.error : undefined;
}

/**
 * Refreshes (RFC 6749 6). FairyID rotates the refresh token on every use, so the new one must be
 * stored before anything else happens: the old one is spent.
 */
export async function refresh(config: oidc.Configuration, credentials: Credentials, now: number): Promise<Credentials> {
  if (!credentials.refresh_token) {
    throw new CliError(
      `The login for ${credentials.account} at ${credentials.issuer} has no refresh token; run \`fairy auth login\`.`,
      EXIT.auth,
    );
  }
  let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  try {
    tokens = await oidc.refreshTokenGrant(config, credentials.refresh_token, {
      resource: apiResource(credentials.issuer),
    });
  } catch (error) {
    if (oauthError(error) === 'invalid_grant') {
      throw new CliError(
        `The login for ${credentials.account} at ${credentials.issuer} has ended (${describe(error)}). Run \`fairy auth login\`.`,
        EXIT.auth,
      );
    }
    throw new CliError(`Could not refresh the login at ${credentials.issuer}: ${describe(error)}`);
  }
  return {
    ...credentials,
    access_token: tokens.access_token,
    expires_at: now + (tokens.expires_in ?? 0) * 1000,
    refresh_token: tokens.refresh_token ?? credentials.refresh_token,
    scope: tokens.scope ?? credentials.scope,
  };
}
