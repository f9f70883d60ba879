import { basicAuth, type Target, type TokenPair } from './target.ts';

/**
 * One untimed request per token shape before the runs, so the report can show that both servers
 * issue the same kind of tokens (algorithms, audience, token types) and a broken set-up fails early.
 */
export async function describeTokens(target: Target): Promise<string> {
  const parts: string[] = [];
  const { token_endpoint: tokenEndpoint } = target.discovery;
  if (target.machine) {
    const body = await postForm(tokenEndpoint, target.machine, {
      grant_type: 'client_credentials',
      scope: 'account:read',
    });
    const header = jwtPart(body.access_token, 0);
    const payload = jwtPart(body.access_token, 1);
    parts.push(
      `client_credentials -> ${header.typ ?? 'JWT'} ${header.alg} aud=${String(payload.aud)} scope=${String(payload.scope)}`,
    );
  }
  if (target.web && target.mintTokens) {
    const [pair] = (await target.mintTokens(1)) as [TokenPair];
    const refreshed = await postForm(tokenEndpoint, target.web, {
      grant_type: 'refresh_token',
      refresh_token: pair.refresh_token,
    });
    const rotated = refreshed.refresh_token && refreshed.refresh_token !== pair.refresh_token;
    const accessKind = refreshed.access_token?.split('.').length === 3 ? 'JWT' : 'opaque';
    parts.push(
      `refresh -> id_token ${jwtPart(refreshed.id_token, 0).alg}, ${accessKind} access token, ${rotated ? 'rotated' : 'NOT rotated'} refresh token`,
    );
  }
  return parts.join('; ') || 'no token scenarios';
}

export async function postForm(url: string, client: { id: string; secret: string }, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as Record<string, string | undefined>;
  if (!response.ok) throw new Error(`${form.grant_type} at ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

export function jwtPart(token: string | undefined, index: 0 | 1): Record<string, unknown> {
  const part = token?.split('.')[index];
  if (!part) throw new Error('expected a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
