import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { apiTokens } from '../helpers/api.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer, twoInstances } from '../helpers/server.ts';

// RFC 9449 at /api, with openid-client's DPoP handle as the client.

/** A client-credentials client whose `account:read` token is DPoP-bound to `keyPair`. */
async function boundMachineToken(server: TestServer, issuer = server.url) {
  const { clientId, clientSecret } = await registerClient(server.app, {
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scope: 'account:read',
  });
  const config = await discover(issuer, clientId, clientSecret);
  const keyPair = await oidc.randomDPoPKeyPair('ES256', { extractable: true });
  const DPoP = oidc.getDPoPHandle(config, keyPair);
  const response = await oidc.clientCredentialsGrant(config, { scope: 'account:read' }, { DPoP });
  return { config, keyPair, DPoP, clientId, token: response.access_token, tokenType: response.token_type };
}

/**
 * The DPoP proof openid-client makes for a request, taken off the wire by a configuration whose
 * fetch only records, so a test can send it in a request of its own choosing.
 */
async function proofFor(config: oidc.Configuration, DPoP: oidc.DPoPHandle, token: string, url: string, method = 'GET') {
  const recorder = new oidc.Configuration(config.serverMetadata(), config.clientMetadata().client_id);
  oidc.allowInsecureRequests(recorder);
  let proof = '';
  recorder[oidc.customFetch] = async (_input, init) => {
    proof = new Headers(init.headers).get('dpop') ?? '';
    return new Response(null, { status: 204 });
  };
  await oidc.fetchProtectedResource(recorder, token, new URL(url), method, undefined, undefined, { DPoP });
  return proof;
}

type Patch = { header?: Record<string, unknown>; payload?: Record<string, unknown> };

/** A handle for the same key whose proofs get `patch` just before signing (`undefined` drops a claim). */
const alteredHandle = (config: oidc.Configuration, keyPair: oidc.CryptoKeyPair, patch: Patch) =>
  oidc.getDPoPHandle(config, keyPair, {
    [oidc.modifyAssertion]: (header, payload) => {
      Object.assign(header, patch.header);
      Object.assign(payload, patch.payload);
    },
  });

const send = (url: string, authorization: string, proofs: string[] = []) => {
  const headers = new Headers({ authorization });
  for (const proof of proofs) headers.append('dpop', proof);
  return fetch(url, { headers });
};

async function refusal(response: Response) {
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate') ?? '',
    ...((await response.json()) as { error: string; error_description: string }),
  };
}

test('a DPoP-bound token is refused with the Bearer scheme even with a valid proof, and works with the DPoP scheme', async (t) => {
  const server = await startTestServer(t);
  const dpopKeys = await oidc.randomDPoPKeyPair('ES256');
  const { config, tokens, DPoP } = await apiTokens(server, 'dpop@example.com', ['account:read'], { dpopKeys });
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  const url = `${server.url}/api/me`;
  const proof = await proofFor(config, DPoP!, tokens.access_token, url);

  // RFC 9449 7.2: the bound token as a bearer token is refused, whatever proof comes with it.
  for (const proofs of [[proof], []]) {
    const asBearer = await refusal(await send(url, `Bearer ${tokens.access_token}`, proofs));
    t.is(asBearer.status, 401);
    t.is(asBearer.error, 'invalid_token');
    t.regex(asBearer.error_description, /DPoP-bound/);
    t.regex(asBearer.challenge, /^Bearer realm="fairyid", DPoP realm="fairyid", error="invalid_token", /);
  }

  // The same proof was sound: with the DPoP scheme it opens the person's profile.
  const proven = await send(url, `DPoP ${tokens.access_token}`, [proof]);
  t.is(proven.status, 200);
  t.is(((await proven.json()) as { email: string }).email, 'dpop@example.com');
  const viaClient = await oidc.fetchProtectedResource(
    config,
    tokens.access_token,
    new URL(url),
    'GET',
    undefined,
    undefined,
    {
      DPoP,
    },
  );
  t.is(viaClient.status, 200, 'openid-client sends it with the DPoP scheme and a fresh proof');
});

test('a client-credentials DPoP token works with the DPoP scheme and its own key, once per proof', async (t) => {
  const server = await startTestServer(t);
  const { config, DPoP, clientId, token, tokenType } = await boundMachineToken(server);
  t.is(tokenType.toLowerCase(), 'dpop');
  const url = `${server.url}/api/whoami`;
  const proven = await oidc.fetchProtectedResource(config, token, new URL(url), 'GET', undefined, undefined, { DPoP });
  t.is(proven.status, 200);
  t.is(((await proven.json()) as { client_id: string }).client_id, clientId);

  const asBearer = await refusal(await send(url, `Bearer ${token}`));
  t.is(asBearer.status, 401, 'without a proof the bound token is worthless');
  t.is(asBearer.error, 'invalid_token');

  // Issue 21's report: as Bearer with a sound proof, at a route for people, it once passed
  // authentication and ended 403 person_required. Authentication itself must refuse it (RFC 9449 7.2).
  const meUrl = `${server.url}/api/me`;
  const bearerWithProof = await refusal(
    await send(meUrl, `Bearer ${token}`, [await proofFor(config, DPoP, token, meUrl)]),
  );
  t.is(bearerWithProof.status, 401);
  t.is(bearerWithProof.error, 'invalid_token');
  t.regex(bearerWithProof.challenge, /, DPoP realm="fairyid", error="invalid_token", /);

  // A proof from another key does not match the token's binding: the token is not this sender's.
  const otherKey = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
  const stolen = await refusal(await send(url, `DPoP ${token}`, [await proofFor(config, otherKey, token, url)]));
  t.is(stolen.status, 401);
  t.is(stolen.error, 'invalid_token');
  t.regex(stolen.error_description, /bound to another key/);
});

test('a proof whose htu differs from the request URL only by RFC 3986 normalisation is accepted', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const { config, keyPair, token } = await boundMachineToken(server);
  const port = new URL(server.url).port;
  const url = `${server.url}/api/whoami`;
  const variants = [
    `HTTP://LOCALHOST:${port}/api/whoami`,
    // Percent-encoded unreserved characters are the characters themselves (RFC 3986 6.2.2.2).
    `http://localhost:${port}/api/%77ho%61mi`,
    `http://localhost:${port}/api/./whoami`,
    // Query and fragment are not compared (RFC 9449 4.3 check 9).
    `http://localhost:${port}/api/whoami?view=full#top`,
  ];
  for (const htu of variants) {
    const handle = alteredHandle(config, keyPair, { payload: { htu } });
    const response = await send(url, `DPoP ${token}`, [await proofFor(config, handle, token, url)]);
    t.is(response.status, 200, htu);
  }
  // The control: another path is another URL.
  const elsewhere = alteredHandle(config, keyPair, { payload: { htu: `http://localhost:${port}/api/me` } });
  const refused = await refusal(await send(url, `DPoP ${token}`, [await proofFor(config, elsewhere, token, url)]));
  t.is(refused.error, 'invalid_dpop_proof');
});

test('each DPoP proof failure is invalid_dpop_proof with a description of its own', async (t) => {
  const server = await startTestServer(t);
  const { config, keyPair, DPoP, token } = await boundMachineToken(server);
  const url = `${server.url}/api/whoami`;
  const altered = (patch: Patch) => proofFor(config, alteredHandle(config, keyPair, patch), token, url);
  const now = Math.floor(Date.now() / 1000);
  const privateJwk = await crypto.subtle.exportKey('jwk', keyPair.privateKey);
  const valid = await proofFor(config, DPoP, token, url);
  const [header, payload, signature] = valid.split('.') as [string, string, string];
  const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
  const rsa = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('PS256'));

  t.is((await send(url, `DPoP ${token}`, [valid])).status, 200, 'the control: an unaltered proof passes once');
  const cases: Record<string, { proofs: string[]; description: RegExp }> = {
    'no proof': { proofs: [], description: /proof is required/ },
    'two proofs': { proofs: [await proofFor(config, DPoP, token, url), valid], description: /more than one/ },
    'not a JWT': { proofs: ['not-a-jwt'], description: /not a well-formed JWT/ },
    'an old proof': { proofs: [await altered({ payload: { iat: now - 3600 } })], description: /too old/ },
    'a proof from the future': { proofs: [await altered({ payload: { iat: now + 3600 } })], description: /future/ },
    'a replayed jti': { proofs: [valid], description: /already used/ },
    'a private key in jwk': {
      proofs: [await altered({ header: { jwk: privateJwk } })],
      description: /carries a private key/,
    },
    'a wrong ath': {
      proofs: [await proofFor(config, DPoP, 'another-token', url)],
      description: /another access token/,
    },
    'a wrong htm': { proofs: [await altered({ payload: { htm: 'POST' } })], description: /another HTTP method/ },
    'a wrong htu': {
      proofs: [await proofFor(config, DPoP, token, `${server.url}/api/me`)],
      description: /another URL/,
    },
    'a bad signature': { proofs: [`${header}.${payload}.${flipped}`], description: /signature does not verify/ },
    'a wrong typ': { proofs: [await altered({ header: { typ: 'JWT' } })], description: /typ header/ },
    'an algorithm we do not accept': {
      proofs: [await proofFor(config, rsa, token, url)],
      description: /algorithm we do not accept/,
    },
    'no jti': { proofs: [await altered({ payload: { jti: undefined } })], description: /no jti claim/ },
  };
  const descriptions = new Set<string>();
  for (const [name, { proofs, description }] of Object.entries(cases)) {
    const refused = await refusal(await send(url, `DPoP ${token}`, proofs));
    t.is(refused.status, 401, name);
    t.is(refused.error, 'invalid_dpop_proof', name);
    t.regex(refused.error_description, description, name);
    t.notRegex(refused.error_description, /access token has expired|malformed/, name);
    t.regex(
      refused.challenge,
      /, DPoP realm="fairyid", error="invalid_dpop_proof", error_description="[^"]+", algs="/,
      name,
    );
    descriptions.add(refused.error_description);
  }
  t.is(descriptions.size, Object.keys(cases).length, 'no two failures share a description');
});

test('every challenge offers both schemes, the DPoP one with the proof algorithms discovery advertises', async (t) => {
  const server = await startTestServer(t);
  const { config, DPoP, token } = await boundMachineToken(server);
  const algs = config.serverMetadata().dpop_signing_alg_values_supported?.join(' ');
  t.is(algs, 'ES256 EdDSA Ed25519');

  // No credentials: both challenges, no error code (RFC 6750 3.1), algs on DPoP (RFC 9449 7.1).
  const bare = await fetch(`${server.url}/api/me`);
  t.is(bare.headers.get('www-authenticate'), `Bearer realm="fairyid", DPoP realm="fairyid", algs="${algs}"`);

  // As a client sees them: openid-client parses the challenges of a 401 or 403 into its error.
  const challengesOf = async (path: string, accessToken: string, options?: oidc.DPoPOptions) => {
    const error = await t.throwsAsync<oidc.WWWAuthenticateChallengeError>(
      oidc.fetchProtectedResource(
        config,
        accessToken,
        new URL(`${server.url}${path}`),
        'GET',
        undefined,
        undefined,
        options,
      ),
    );
    return Object.fromEntries((error?.cause ?? []).map((challenge) => [challenge.scheme, challenge.parameters]));
  };
  t.like(await challengesOf('/api/me', 'a.b.c'), {
    bearer: { realm: 'fairyid', error: 'invalid_token' },
    dpop: { realm: 'fairyid', algs },
  });
  t.like(await challengesOf('/api/me', token, { DPoP: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair()) }), {
    bearer: { realm: 'fairyid' },
    dpop: { realm: 'fairyid', error: 'invalid_token', algs },
  });
  // A route this token has no scope for: authenticated with the DPoP scheme, then refused there.
  t.like(await challengesOf('/api/organizations', token, { DPoP }), {
    bearer: { realm: 'fairyid' },
    dpop: { realm: 'fairyid', error: 'insufficient_scope', scope: 'organizations:read', algs },
  });
});

// Two instances share a replay store only through shared storage: real Postgres and Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

shared('a proof used on one instance is refused as a replay on another', async (t) => {
  await twoInstancesReplay(t);
});
/** Two instances of one issuer on one Postgres and one Redis, as behind a load balancer. */
async function twoInstancesReplay(t: ExecutionContext) {
  const { a, b } = await twoInstances(t);
  const { config, DPoP, token } = await boundMachineToken(a);
  // The client addresses the issuer's URL; the balancer may send the request to either instance.
  const proof = await proofFor(config, DPoP, token, `${a.url}/api/whoami`);
  t.is((await send(`${a.url}/api/whoami`, `DPoP ${token}`, [proof])).status, 200);
  const replay = await refusal(await send(`${b.url}/api/whoami`, `DPoP ${token}`, [proof]));
  t.is(replay.status, 401);
  t.regex(replay.error_description, /already used/);
}
