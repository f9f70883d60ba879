import { createHash, randomBytes } from 'node:crypto';
import { signInThroughPages } from '../../test/helpers/sign-in.ts';
import type { ClientCredentials } from './servers.ts';
import type { ServerProcess } from './processes.ts';

export type { ClientCredentials };

export type Discovery = {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint?: string;
  userinfo_endpoint?: string;
};

export type TokenPair = { access_token: string; refresh_token: string };

/** One server under measurement, with whatever the scenarios need prepared against it. */
export type Target = {
  name: string;
  /**
   * fairy: FairyID (started here or --target); reference: the bare oidc-provider; hello: the bare
   * Koa "hello world", the baseline of the api_jwt scenarios only.
   */
  kind: 'fairy' | 'reference' | 'hello';
  url: string;
  /**
   * Where the load goes, connections split evenly: several FairyID processes serving the same
   * issuer (--instances). Scenario URLs are built from `url` (the issuer) and re-aimed at each origin.
   * Default: `url` alone.
   */
  origins?: string[];
  discovery: Discovery;
  process?: ServerProcess;
  /** The processes serving this target, for its CPU use during a run (default: `process`). */
  servers?: ServerProcess[];
  machine?: ClientCredentials;
  web?: ClientCredentials;
  /** Token pairs for the refresh, introspection and userinfo scenarios, made outside the timed part. */
  mintTokens?: (count: number) => Promise<TokenPair[]>;
  /** Tokens may be evicted between runs (an LRU store): mint them fresh before every run. */
  volatileTokens?: boolean;
  /** Present when the complete sign-in can be driven through the hosted pages (FairyID with /dev/outbox). */
  signIn?: (email: string) => Promise<TokenPair>;
  /**
   * A person's RFC 9068 access token for ISSUER/api (scope account:read): signed in through the
   * pages with `resource=ISSUER/api`, so the token carries `grant_id` and /api checks its revocation.
   */
  personApiToken?: () => Promise<string>;
};

export async function fetchDiscovery(url: string): Promise<Discovery> {
  const response = await fetch(`${url}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery at ${url} answered ${response.status}`);
  return (await response.json()) as Discovery;
}

export function basicAuth({ id, secret }: ClientCredentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/**
 * The complete passwordless sign-in through the real hosted pages, as a browser without JavaScript:
 * authorize -> email form -> code from /dev/outbox -> code form -> consent -> redirect with the code
 * -> code exchange at the token endpoint (client_secret_basic, PKCE S256).
 */
export async function signInAndExchange(
  base: string,
  discovery: Discovery,
  web: ClientCredentials,
  redirectUri: string,
  email: string,
  scope: string,
  /** RFC 8707 resource indicator, sent at authorization and at the code exchange. */
  resource?: string,
): Promise<TokenPair & { id_token?: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(discovery.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: web.id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    // offline_access is granted only with prompt=consent (OpenID Connect Core 11).
    ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    ...(resource ? { resource } : {}),
  }).toString();
  const { url, response } = await signInThroughPages(base, authorize.href, email);
  const code = url.searchParams.get('code');
  if (!code) throw new Error(`sign-in for ${email} ended at ${url.href} (${response.status}) without a code`);

  const token = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: basicAuth(web), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      ...(resource ? { resource } : {}),
    }),
  });
  const body = (await token.json()) as Partial<TokenPair> & { error?: string; error_description?: string };
  if (!token.ok || !body.access_token)
    throw new Error(`code exchange failed: ${token.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
  return body as TokenPair;
}

/** Runs `task` for 0..count-1 with at most `concurrency` at a time, keeping the results in order. */
export async function inParallel<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

let emailCounter = 0;
/** A fresh address per sign-in: each is a new person, and the per-address send limit never applies. */
export function benchEmail(kind: string): string {
  emailCounter += 1;
  return `bench-${kind}-${process.pid}-${Date.now().toString(36)}-${emailCounter}@example.com`;
}
