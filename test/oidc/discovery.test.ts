import test from 'ava';
import type { ExecutionContext } from 'ava';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';

// Members a private JWK may carry (RFC 7518 6.2.2, 6.3.2, 6.4; RFC 8037 2): none may be published.
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Discovery as a relying party does it: openid-client fetches and validates the document. */
async function discoveredMetadata(t: ExecutionContext) {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  return { server, metadata: config.serverMetadata() };
}

test('the discovery document names this server as the issuer and its endpoints under it', async (t) => {
  const { server, metadata } = await discoveredMetadata(t);
  t.is(metadata.issuer, server.url);
  const endpoints = {
    authorization_endpoint: metadata.authorization_endpoint,
    token_endpoint: metadata.token_endpoint,
    userinfo_endpoint: metadata.userinfo_endpoint,
    jwks_uri: metadata.jwks_uri,
    introspection_endpoint: metadata.introspection_endpoint,
    revocation_endpoint: metadata.revocation_endpoint,
    end_session_endpoint: metadata.end_session_endpoint,
    device_authorization_endpoint: metadata.device_authorization_endpoint,
  };
  for (const [name, value] of Object.entries(endpoints)) {
    t.true(
      typeof value === 'string' && value.startsWith(`${server.url}/`),
      `${name} is advertised on the issuer (${value})`,
    );
  }
});

test('the discovery document offers the code flow only, with S256 PKCE', async (t) => {
  const { metadata } = await discoveredMetadata(t);
  // Security BCP 2.1.2: no implicit or hybrid response types, so no token ever travels in a URL.
  // `none` returns nothing but the session; our own pages sign people in with it (page-session.ts).
  t.deepEqual([...(metadata.response_types_supported ?? [])].sort(), ['code', 'none']);
  // plain PKCE would let an intercepted code be redeemed by whoever saw the request.
  t.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
});

test('the discovery document advertises the grant types we enabled and no implicit grant', async (t) => {
  const { metadata } = await discoveredMetadata(t);
  const grants = metadata.grant_types_supported ?? [];
  for (const grant of [
    'authorization_code',
    'refresh_token',
    'client_credentials',
    'urn:ietf:params:oauth:grant-type:device_code',
  ]) {
    t.true(grants.includes(grant), `${grant} is supported`);
  }
  t.false(grants.includes('implicit'));
  t.false(grants.includes('password'));
});

test('the discovery document lists RS256, ES256 and EdDSA for ID token signatures', async (t) => {
  const { metadata } = await discoveredMetadata(t);
  t.deepEqual([...(metadata.id_token_signing_alg_values_supported ?? [])].sort(), ['ES256', 'EdDSA', 'RS256']);
});

test('the JWKS publishes an RS256, an ES256 and an EdDSA public key, and no private key material', async (t) => {
  const { metadata } = await discoveredMetadata(t);
  const response = await fetch(metadata.jwks_uri!);
  t.is(response.status, 200);
  const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };

  const byAlg = new Map(keys.map((key) => [key.alg, key]));
  t.like(byAlg.get('RS256'), { kty: 'RSA', use: 'sig' });
  t.like(byAlg.get('ES256'), { kty: 'EC', crv: 'P-256', use: 'sig' });
  t.like(byAlg.get('EdDSA'), { kty: 'OKP', crv: 'Ed25519', use: 'sig' });
  for (const key of keys) {
    t.truthy(key.kid, 'every key has a kid, so verifiers can pick it');
    const leaked = PRIVATE_JWK_MEMBERS.filter((member) => member in key);
    t.deepEqual(leaked, [], `key ${String(key.kid)} (${String(key.alg)}) has no private members`);
  }
});

test('the discovery document offers secret-based and public client authentication only', async (t) => {
  const { metadata } = await discoveredMetadata(t);
  // JWT client authentication is deliberately not offered (see configuration.ts).
  t.deepEqual([...(metadata.token_endpoint_auth_methods_supported ?? [])].sort(), [
    'client_secret_basic',
    'client_secret_post',
    'none',
  ]);
});
