import { createHash, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { decodeJwt, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { federationSetUp } from './federation.ts';
import { authorizationCodes, readForm, sendJson, serveStandIn, signingKey } from './stand-in-server.ts';

/** An Apple ID as Sign in with Apple describes it; `email` may be a private-relay address. */
export type ApplePerson = { sub: string; email?: string; firstName?: string; lastName?: string };

/** Apple's team and key for FairyID's client secret: the stand-in holds the public half, FairyID the PEM. */
export function appleSigningKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Apple accepts a client secret that lives at most six months. */
const MAX_SECRET_SECONDS = 15_777_000;

/**
 * Sign in with Apple's endpoints on one loopback address, behaving as appleid.apple.com does:
 * - `/auth/authorize` wants `response_mode=form_post` for the name and email scopes and answers
 *   with a page whose form posts `code` and `state` to the redirect URI (and `user`, the name, on
 *   the person's first authorization of this client only), or `error=user_cancelled_authorize`;
 * - `/auth/token` takes the client secret as an ES256 JWT and checks it as Apple does (signature
 *   with the registered key, `kid`, `iss` = team, `sub` = client id, `aud` = https://appleid.apple.com,
 *   not expired, at most six months long), then the code, its redirect URI and the PKCE verifier;
 * - ID tokens carry `email`, `email_verified` (a boolean, as Apple sends it since 2024) and
 *   `is_private_email` for a relay address.
 */
export async function startAppleStandIn(
  t: ExecutionContext,
  registered: { teamId: string; keyId: string; publicKey: KeyObject },
  host = '127.0.0.22',
) {
  const key = await signingKey('apple-key-1');
  const state = {
    person: { sub: '001234.0a1b2c3d4e5f.0123' } as ApplePerson,
    client: { id: '', redirectUri: '' },
    cancel: false,
    /** Apple's clock, for checking client secrets' expiry. */
    now: () => Date.now(),
    tokenRequests: 0,
    /** The claims of each client secret presented, valid or not. */
    clientSecrets: [] as JWTPayload[],
    refusedSecrets: 0,
  };
  const authorized = new Set<string>();
  const codes = authorizationCodes<{ nonce: string; person: ApplePerson }>();

  const clientSecretProblem = async (secret: string): Promise<string | undefined> => {
    try {
      state.clientSecrets.push(decodeJwt(secret));
      if (decodeProtectedHeader(secret).kid !== registered.keyId) return 'unknown key';
      const { payload } = await jwtVerify(secret, registered.publicKey, {
        algorithms: ['ES256'],
        issuer: registered.teamId,
        subject: state.client.id,
        audience: 'https://appleid.apple.com',
        currentDate: new Date(state.now()),
        requiredClaims: ['iat', 'exp'],
      });
      if (Number(payload.exp) - Number(payload.iat) > MAX_SECRET_SECONDS) return 'too long-lived';
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  const url = await serveStandIn(t, host, async (req, res, url) => {
    const base = `${url.protocol}//${req.headers.host}`;
    if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/auth/authorize`,
        token_endpoint: `${base}/auth/token`,
        revocation_endpoint: `${base}/auth/revoke`,
        jwks_uri: `${base}/auth/keys`,
        response_types_supported: ['code'],
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'name'],
        token_endpoint_auth_methods_supported: ['client_secret_post'],
        claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'is_private_email', 'iss', 'nonce', 'sub'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/auth/keys') return sendJson(res, 200, key.jwks);
    if (req.method === 'GET' && url.pathname === '/auth/authorize') {
      const query = url.searchParams;
      if (query.get('client_id') !== state.client.id || query.get('redirect_uri') !== state.client.redirectUri)
        return sendJson(res, 400, { error: 'invalid_client' });
      const scopes = String(query.get('scope')).split(' ');
      if ((scopes.includes('name') || scopes.includes('email')) && query.get('response_mode') !== 'form_post')
        return sendJson(res, 400, { error: 'invalid_request', error_description: 'response_mode must be form_post' });
      const fields: Record<string, string> = { state: String(query.get('state')) };
      const { person } = state;
      if (state.cancel) fields.error = 'user_cancelled_authorize';
      else {
        fields.code = codes.keep(
          `c${randomBytes(20).toString('hex')}.0.nrxyz.${randomBytes(8).toString('base64url')}`,
          query,
          { nonce: String(query.get('nonce')), person },
        );
        // The name comes with the first authorization of this client only, as Apple does.
        if (!authorized.has(person.sub) && scopes.includes('name')) {
          fields.user = JSON.stringify({
            name: { firstName: person.firstName, lastName: person.lastName },
            ...(person.email ? { email: person.email } : {}),
          });
        }
        authorized.add(person.sub);
      }
      const inputs = Object.entries(fields)
        .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(
        `<!doctype html><html><body><form method="post" action="${escapeHtml(state.client.redirectUri)}">${inputs}</form>` +
          '<script>document.forms[0].submit()</script></body></html>',
      );
    }
    if (req.method === 'POST' && url.pathname === '/auth/token') {
      state.tokenRequests += 1;
      const form = await readForm(req);
      const problem =
        form.get('client_id') !== state.client.id
          ? 'unknown client'
          : await clientSecretProblem(String(form.get('client_secret')));
      if (problem) {
        state.refusedSecrets += 1;
        return sendJson(res, 400, { error: 'invalid_client' });
      }
      const grant = codes.redeem(form);
      if (!grant)
        return sendJson(res, 400, {
          error: 'invalid_grant',
          error_description: 'The code has expired or has been revoked.',
        });
      const accessToken = `a${randomBytes(24).toString('hex')}.0.nrxyz.${randomBytes(8).toString('base64url')}`;
      const now = Math.floor(Date.now() / 1000);
      const { person } = grant;
      const idToken = await key.sign({
        iss: base,
        aud: state.client.id,
        exp: now + 86_400,
        iat: now,
        sub: person.sub,
        nonce: grant.nonce,
        at_hash: createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url'),
        ...(person.email
          ? {
              email: person.email,
              email_verified: true,
              ...(person.email.endsWith('@privaterelay.appleid.com') ? { is_private_email: true } : {}),
            }
          : {}),
        auth_time: now,
        nonce_supported: true,
      });
      return sendJson(res, 200, {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: `r${randomBytes(24).toString('hex')}.0.nrxyz`,
        id_token: idToken,
      });
    }
    sendJson(res, 404, { error: 'not_found' });
  });
  return { url, state };
}

function escapeHtml(value: string) {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

export const APPLE_TEAM = 'TEAM123456';
export const APPLE_KEY_ID = 'KEY1234567';
export const APPLE_SERVICES_ID = 'example.fairyid.signin';

/** FairyID with Sign in with Apple enabled against the stand-in (and the usual upstreams of federationSetUp). */
export async function appleSetUp(t: ExecutionContext, env: Record<string, string> = {}) {
  const key = appleSigningKey();
  const apple = await startAppleStandIn(t, { teamId: APPLE_TEAM, keyId: APPLE_KEY_ID, publicKey: key.publicKey });
  const setUp = await federationSetUp(t, {
    APPLE_CLIENT_ID: APPLE_SERVICES_ID,
    APPLE_TEAM_ID: APPLE_TEAM,
    APPLE_KEY_ID,
    // One line, as many environments hold it.
    APPLE_PRIVATE_KEY: key.pem.replaceAll('\n', '\\n'),
    APPLE_URL: apple.url,
    ...env,
  });
  apple.state.client = { id: APPLE_SERVICES_ID, redirectUri: `${setUp.server.url}/federation/apple/callback` };
  return { ...setUp, apple };
}
