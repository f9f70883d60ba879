import { randomBytes, randomUUID } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { authorizationCodes, readForm, sendJson, serveStandIn, signingKey } from './stand-in-server.ts';

/** A Microsoft account as its ID token describes it: the tenant, the object id, a pairwise `sub`. */
export type MicrosoftPerson = { tid: string; oid: string; sub: string; name: string; email?: string };

/** The tenant Microsoft gives personal accounts. */
export const CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

/**
 * Microsoft's v2.0 endpoint on one loopback address, behaving as login.microsoftonline.com does for
 * `common` and `organizations`: discovery names the template issuer `…/{tenantid}/v2.0`, each ID
 * token's `iss` names the signed-in person's tenant (`tid`), the authorize endpoint answers at
 * once for `person` (or with `access_denied`), and the token endpoint checks the client secret
 * (client_secret_post), the code, its redirect URI and the PKCE verifier. `issuerTenant` makes the
 * next ID tokens claim another tenant's issuer than their `tid`, as a forged one would.
 */
export async function startMicrosoftStandIn(t: ExecutionContext, host = '127.0.0.21') {
  const key = await signingKey('ms-key-1');
  const state = {
    person: { tid: randomUUID(), oid: randomUUID(), sub: 'pairwise-sub-1', name: 'Mia' } as MicrosoftPerson,
    client: { id: '', secret: '', redirectUri: '' },
    deny: false,
    issuerTenant: undefined as string | undefined,
    tokenRequests: 0,
    authorizeRequests: [] as URLSearchParams[],
  };
  const codes = authorizationCodes<{ nonce: string; person: MicrosoftPerson }>();

  const url = await serveStandIn(t, host, async (req, res, url) => {
    const match = /^\/([^/]+)\/(.+)$/.exec(url.pathname);
    const [tenant, rest] = match ? [match[1]!, match[2]!] : ['', ''];
    const templated = tenant === 'common' || tenant === 'organizations';
    const base = `${url.protocol}//${req.headers.host}`;
    if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer: `${base}/${templated ? '{tenantid}' : tenant}/v2.0`,
        authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
        jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'name', 'preferred_username', 'oid', 'tid'],
        tenant_region_scope: null,
      });
    }
    if (req.method === 'GET' && rest === 'discovery/v2.0/keys') return sendJson(res, 200, key.jwks);
    if (req.method === 'GET' && rest === 'oauth2/v2.0/authorize') {
      const query = url.searchParams;
      state.authorizeRequests.push(query);
      if (query.get('client_id') !== state.client.id || query.get('redirect_uri') !== state.client.redirectUri)
        return sendJson(res, 400, {
          error: 'invalid_request',
          error_description: 'AADSTS50011: redirect URI mismatch',
        });
      const back = new URL(state.client.redirectUri);
      if (state.deny) {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
      } else {
        const code = codes.keep(`0.A${randomBytes(24).toString('base64url')}`, query, {
          nonce: String(query.get('nonce')),
          person: state.person,
        });
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', String(query.get('state')));
      back.searchParams.set('session_state', randomUUID());
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
      state.tokenRequests += 1;
      const form = await readForm(req);
      if (form.get('client_id') !== state.client.id || form.get('client_secret') !== state.client.secret)
        return sendJson(res, 401, {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided.',
          error_codes: [7000215],
        });
      const grant = codes.redeem(form);
      if (!grant)
        return sendJson(res, 400, {
          error: 'invalid_grant',
          error_description: 'AADSTS70008: The provided authorization code or refresh token has expired.',
          error_codes: [70008],
        });
      const now = Math.floor(Date.now() / 1000);
      const { person } = grant;
      const idToken = await key.sign({
        ver: '2.0',
        iss: `${base}/${state.issuerTenant ?? person.tid}/v2.0`,
        sub: person.sub,
        aud: state.client.id,
        exp: now + 3600,
        iat: now,
        nbf: now,
        name: person.name,
        preferred_username: person.email,
        oid: person.oid,
        tid: person.tid,
        nonce: grant.nonce,
        ...(person.email ? { email: person.email } : {}),
      });
      return sendJson(res, 200, {
        token_type: 'Bearer',
        scope: 'openid profile email',
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: `eyJ0eXAi.${randomBytes(32).toString('base64url')}`,
        id_token: idToken,
      });
    }
    sendJson(res, 404, { error: 'not_found' });
  });
  return { url, state };
}
