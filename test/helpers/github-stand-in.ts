import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ExecutionContext } from 'ava';
import { authorizationCodes, readForm, serveStandIn } from './stand-in-server.ts';

/** A GitHub user as the stand-in serves it: `/user`, and the addresses `/user/emails` lists. */
export type GitHubPerson = {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
};

/**
 * GitHub's OAuth app endpoints and the two REST calls FairyID makes, on one loopback address,
 * behaving as github.com and api.github.com do: the authorize page answers at once for `person`
 * (with `code` and `state`), the token endpoint checks the client, the code, its redirect URI and
 * the PKCE verifier and answers errors with a 200 and an `error` field as GitHub does, and the API
 * wants a Bearer token and a User-Agent.
 */
export async function startGitHubStandIn(t: ExecutionContext, host = '127.0.0.5') {
  const state = {
    person: { id: 1, login: 'octo', name: 'Octo', emails: [] } as GitHubPerson,
    tokenRequests: 0,
    client: { id: '', secret: '', redirectUri: '' },
    /**
     * As a GitHub App with "expire user authorization tokens" on: tokens live eight hours and come
     * with a refresh token, which is used once (refreshRequests counts its grants).
     */
    expiringTokens: false,
    refreshRequests: 0,
  };
  const refreshTokens = new Map<string, GitHubPerson>();
  const codes = authorizationCodes<{ person: GitHubPerson }>();
  const tokens = new Map<string, GitHubPerson>();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };

  const url = await serveStandIn(t, host, async (req, res, url) => {
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const query = url.searchParams;
      if (query.get('client_id') !== state.client.id || query.get('redirect_uri') !== state.client.redirectUri)
        return json(res, 400, { error: 'redirect_uri_mismatch' });
      const code = codes.keep(randomBytes(10).toString('hex'), query, { person: state.person });
      const back = new URL(state.client.redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', String(query.get('state')));
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      state.tokenRequests += 1;
      const form = await readForm(req);
      if (form.get('client_id') !== state.client.id || form.get('client_secret') !== state.client.secret)
        return json(res, 200, {
          error: 'incorrect_client_credentials',
          error_description: 'The client_id and/or client_secret passed are incorrect.',
        });
      const issue = (person: GitHubPerson) => {
        const accessToken = `gh${state.expiringTokens ? 'u' : 'o'}_${randomBytes(18).toString('hex')}`;
        tokens.set(accessToken, person);
        if (!state.expiringTokens)
          return { access_token: accessToken, token_type: 'bearer', scope: 'read:user,user:email' };
        const refreshToken = `ghr_${randomBytes(30).toString('hex')}`;
        refreshTokens.set(refreshToken, person);
        return {
          access_token: accessToken,
          expires_in: 28800,
          refresh_token: refreshToken,
          refresh_token_expires_in: 15897600,
          token_type: 'bearer',
          scope: '',
        };
      };
      if (form.get('grant_type') === 'refresh_token') {
        state.refreshRequests += 1;
        const person = refreshTokens.get(String(form.get('refresh_token')));
        refreshTokens.delete(String(form.get('refresh_token')));
        if (!person)
          return json(res, 200, {
            error: 'bad_refresh_token',
            error_description: 'The refresh token passed is incorrect or expired.',
          });
        return json(res, 200, issue(person));
      }
      const grant = codes.redeem(form);
      if (!grant)
        return json(res, 200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
        });
      return json(res, 200, issue(grant.person));
    }
    if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
      if (!req.headers['user-agent']) return json(res, 403, { message: 'Request forbidden by administrative rules.' });
      const person = tokens.get(String(req.headers.authorization).replace(/^Bearer /, ''));
      if (!person) return json(res, 401, { message: 'Bad credentials' });
      if (url.pathname === '/user') return json(res, 200, { id: person.id, login: person.login, name: person.name });
      return json(res, 200, person.emails);
    }
    json(res, 404, { message: 'Not Found' });
  });

  return {
    url,
    state,
    /** The person revoked the app's authorization at GitHub: its refresh tokens stop working. */
    revokeRefreshTokens: () => refreshTokens.clear(),
    /** Whom an access token belongs to (its `/user`), or undefined for one GitHub does not know. */
    ownerOf: (accessToken: string) => tokens.get(accessToken)?.id,
  };
}
