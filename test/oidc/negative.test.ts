import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { PageClient } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

type Party = Awaited<ReturnType<typeof relyingParty>>;

async function relyingParty(t: ExecutionContext) {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret!);
  return { server, clientId, clientSecret: clientSecret!, config };
}

/** An authorization request as openid-client builds it; `params` override or, when undefined, remove. */
async function authorizationUrl(config: oidc.Configuration, params: Record<string, string | undefined> = {}) {
  const { challenge } = await pkcePair();
  const all: Record<string, string | undefined> = {
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    ...params,
  };
  const defined = Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return oidc.buildAuthorizationUrl(config, Object.fromEntries(defined));
}

/** Sends an authorization request as a browser would, without following the answer. */
async function openAuthorization(server: Party['server'], url: URL) {
  const response = await new PageClient(server.url).request(url.href, { headers: { accept: 'text/html' } });
  const location = response.headers.get('location');
  return { response, location: location ? new URL(location, server.url) : undefined };
}

/** A person signs in and the app is handed an authorization code (not yet redeemed). */
async function authorizationCode(party: Party, scope = 'openid') {
  const { verifier, challenge } = await pkcePair();
  const url = await authorizationUrl(party.config, {
    scope,
    code_challenge: challenge,
    state: undefined,
    // OIDC Core 11: offline_access is only honoured together with prompt=consent.
    ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}),
  });
  const { url: callback } = await signInThroughPages(party.server.url, url.href, 'negative@example.com');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`sign-in ended at ${callback.href} without a code`);
  return { callback, code, verifier };
}

/**
 * A raw token request, for the requests openid-client refuses to send. Client authentication is
 * HTTP Basic with form-urlencoded credentials (RFC 6749 2.3.1).
 */
async function tokenRequest(party: Party, form: Record<string, string>, secret = party.clientSecret) {
  const credentials = Buffer.from(`${encodeURIComponent(party.clientId)}:${encodeURIComponent(secret)}`).toString(
    'base64',
  );
  const response = await fetch(party.config.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}`, accept: 'application/json' },
    body: new URLSearchParams(form),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const codeExchange = (code: string, verifier: string) => ({
  grant_type: 'authorization_code',
  code,
  code_verifier: verifier,
  redirect_uri: RP_REDIRECT,
});

test('an unregistered redirect_uri gets an error page and the browser is never sent there', async (t) => {
  const party = await relyingParty(t);
  const url = await authorizationUrl(party.config, { redirect_uri: 'https://attacker.example/callback' });
  const { response, location } = await openAuthorization(party.server, url);

  t.is(response.status, 400);
  t.is(location, undefined, 'no redirect at all, least of all to the unregistered address');
  const html = await response.text();
  t.regex(html, /has not registered/);
  t.regex(html, /invalid_redirect_uri/);
  t.false(
    response.headers.getSetCookie().some((cookie) => cookie.startsWith('_interaction')),
    'no sign-in was started',
  );
});

test('an authorization request without PKCE is sent back with invalid_request and no sign-in starts', async (t) => {
  const party = await relyingParty(t);
  const url = await authorizationUrl(party.config, { code_challenge: undefined, code_challenge_method: undefined });
  const { location } = await openAuthorization(party.server, url);

  t.is(`${location?.origin}${location?.pathname}`, RP_REDIRECT);
  t.is(location?.searchParams.get('error'), 'invalid_request');
  t.regex(location?.searchParams.get('error_description') ?? '', /requires PKCE/);
  t.is(location?.searchParams.get('state'), 'st-1');
  t.is(location?.searchParams.get('code'), null);
});

test('an authorization request with plain PKCE is sent back with invalid_request', async (t) => {
  const party = await relyingParty(t);
  const { verifier } = await pkcePair();
  // With plain, the challenge is the verifier itself: anyone who sees the request could redeem the code.
  const url = await authorizationUrl(party.config, { code_challenge: verifier, code_challenge_method: 'plain' });
  const { location } = await openAuthorization(party.server, url);

  t.is(`${location?.origin}${location?.pathname}`, RP_REDIRECT);
  t.is(location?.searchParams.get('error'), 'invalid_request');
  t.regex(location?.searchParams.get('error_description') ?? '', /code_challenge_method/);
  t.is(location?.searchParams.get('code'), null);
});

test('a reused authorization code gets invalid_grant and revokes the tokens issued for its first use', async (t) => {
  // RFC 6749 4.1.2: the server SHOULD revoke the tokens issued from a code that is used twice.
  // oidc-provider does: the second use revokes the code's whole grant (access and refresh tokens).
  const party = await relyingParty(t);
  const { callback, verifier } = await authorizationCode(party, 'openid offline_access');
  const first = await oidc.authorizationCodeGrant(party.config, callback, { pkceCodeVerifier: verifier });
  t.true((await oidc.tokenIntrospection(party.config, first.access_token)).active);

  const second = await t.throwsAsync(
    oidc.authorizationCodeGrant(party.config, callback, { pkceCodeVerifier: verifier }),
  );
  t.true(second instanceof oidc.ResponseBodyError);
  t.is((second as oidc.ResponseBodyError).error, 'invalid_grant');

  t.false(
    (await oidc.tokenIntrospection(party.config, first.access_token)).active,
    'the first access token is revoked',
  );
  const refresh = await t.throwsAsync(oidc.refreshTokenGrant(party.config, first.refresh_token!));
  t.is((refresh as oidc.ResponseBodyError).error, 'invalid_grant', 'the first refresh token is revoked');
});

test('a wrong client secret gets invalid_client with 401, and leaves the code for its rightful client', async (t) => {
  const party = await relyingParty(t);
  const { code, verifier } = await authorizationCode(party);

  const wrong = await tokenRequest(party, codeExchange(code, verifier), `${party.clientSecret}x`);
  t.is(wrong.status, 401);
  t.is(wrong.body.error, 'invalid_client');
  t.is(wrong.body.access_token, undefined);
  // RFC 6749 5.2: a 401 for client authentication with Basic carries a WWW-Authenticate challenge.
  t.regex(wrong.headers.get('www-authenticate') ?? '', /^Basic /);

  const right = await tokenRequest(party, codeExchange(code, verifier));
  t.is(right.status, 200, 'the failed attempt did not consume the code');
  t.is(typeof right.body.access_token, 'string');
});

test('an unknown grant type gets unsupported_grant_type', async (t) => {
  const party = await relyingParty(t);
  const response = await tokenRequest(party, { grant_type: 'urn:example:params:grant-type:magic-wand' });
  t.is(response.status, 400);
  t.is(response.body.error, 'unsupported_grant_type');
  t.is(response.body.access_token, undefined);
});

test('a grant type the client was not registered for is refused with invalid_request', async (t) => {
  // client_credentials is enabled on the server, but this client only registered the code flow.
  // RFC 6749 5.2 would name this unauthorized_client; oidc-provider v9 answers invalid_request
  // ("requested grant type is not allowed for this client"). What matters is that no token is issued.
  const party = await relyingParty(t);
  const response = await tokenRequest(party, { grant_type: 'client_credentials' });
  t.is(response.status, 400);
  t.is(response.body.error, 'invalid_request');
  t.regex(String(response.body.error_description), /grant type is not allowed/);
  t.is(response.body.access_token, undefined);
});

test('a wrong code_verifier gets invalid_grant and no tokens', async (t) => {
  const party = await relyingParty(t);
  const { code } = await authorizationCode(party);
  const { verifier: someoneElses } = await pkcePair();

  const response = await tokenRequest(party, codeExchange(code, someoneElses));
  t.is(response.status, 400);
  t.is(response.body.error, 'invalid_grant');
  t.is(response.body.access_token, undefined);
  t.is(response.body.id_token, undefined);
});

test('a token request without a code_verifier gets invalid_grant', async (t) => {
  // openid-client always sends the verifier it is given, so only a raw request can leave it out.
  const party = await relyingParty(t);
  const { code } = await authorizationCode(party);
  const { code_verifier: _omitted, ...withoutVerifier } = codeExchange(code, 'unused');

  const response = await tokenRequest(party, withoutVerifier);
  t.is(response.status, 400);
  t.is(response.body.error, 'invalid_grant');
  t.is(response.body.access_token, undefined);
});
