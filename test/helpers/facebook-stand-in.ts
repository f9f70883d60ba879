import { createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ExecutionContext } from 'ava';
import { authorizationCodes, readForm, serveStandIn } from './stand-in-server.ts';

/** A Facebook user as the Graph API's `/me` gives it; `email` only when its owner confirmed one. */
export type FacebookPerson = { id: string; name: string; email?: string };

const VERSION = '/v21.0';

/**
 * Facebook Login's dialog and token endpoint and the Graph API's `/me`, on one loopback address,
 * behaving as www.facebook.com and graph.facebook.com do: the dialog answers at once for `person`,
 * the token endpoint checks the app, the code, its redirect URI and the PKCE verifier, errors come
 * in Facebook's own shape (`{ "error": { "message", "type": "OAuthException", "code" } }`, not
 * RFC 6749's), and `/me` wants the token and a matching `appsecret_proof`.
 */
export async function startFacebookStandIn(t: ExecutionContext, host = '127.0.0.6') {
  const state = {
    person: { id: '10001', name: 'Face Book' } as FacebookPerson,
    client: { id: '', secret: '', redirectUri: '' },
  };
  const codes = authorizationCodes<{ person: FacebookPerson }>();
  const tokens = new Map<string, FacebookPerson>();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  };
  const oauthError = (res: ServerResponse, message: string) =>
    json(res, 400, { error: { message, type: 'OAuthException', code: 100, fbtrace_id: 'AbCdEf' } });

  const url = await serveStandIn(t, host, async (req, res, url) => {
    if (req.method === 'GET' && url.pathname === `${VERSION}/dialog/oauth`) {
      const query = url.searchParams;
      if (query.get('client_id') !== state.client.id || query.get('redirect_uri') !== state.client.redirectUri)
        return oauthError(res, 'Invalid redirect_uri');
      const code = codes.keep(randomBytes(12).toString('hex'), query, { person: state.person });
      const back = new URL(state.client.redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', String(query.get('state')));
      res.writeHead(302, { location: `${back.href}#_=_` });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === `${VERSION}/oauth/access_token`) {
      const form = await readForm(req);
      if (form.get('client_id') !== state.client.id || form.get('client_secret') !== state.client.secret)
        return oauthError(res, 'Error validating client secret.');
      const grant = codes.redeem(form);
      if (!grant) return oauthError(res, 'Invalid verification code format.');
      const accessToken = `EAAB${randomBytes(24).toString('hex')}`;
      tokens.set(accessToken, grant.person);
      return json(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: 5183944 });
    }
    if (req.method === 'GET' && url.pathname === `${VERSION}/me`) {
      const token = String(req.headers.authorization).replace(/^Bearer /, '');
      const person = tokens.get(token);
      if (!person) return oauthError(res, 'Invalid OAuth access token data.');
      const proof = createHmac('sha256', state.client.secret).update(token).digest('hex');
      if (url.searchParams.get('appsecret_proof') !== proof)
        return json(res, 400, {
          error: {
            message: 'Invalid appsecret_proof provided in the API argument',
            type: 'GraphMethodException',
            code: 100,
          },
        });
      const fields = String(url.searchParams.get('fields')).split(',');
      return json(res, 200, Object.fromEntries(Object.entries(person).filter(([key]) => fields.includes(key))));
    }
    json(res, 404, { error: { message: 'Unknown path components', type: 'OAuthException', code: 2500 } });
  });

  return { url, state };
}
