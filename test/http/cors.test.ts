import test from 'ava';
import { apiToken } from '../helpers/api.ts';
import { registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SPA = 'https://spa.example';
const EVIL = 'https://evil.example';

function preflight(server: TestServer, path: string, origin: string, method = 'GET') {
  return fetch(`${server.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,dpop,content-type',
    },
  });
}

const corsHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));

const varies = (response: Response) =>
  (response.headers.get('vary') ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .includes('origin');

test('/api answers a preflight from a registered origin, and lets that page read its answers', async (t) => {
  const server = await startTestServer(t);
  await registerClient(server.app, { redirectUris: [`${SPA}/callback`], authMethod: 'none' });
  const answer = await preflight(server, '/api/me', SPA);
  t.is(answer.status, 204);
  t.is(answer.headers.get('access-control-allow-origin'), SPA);
  const allowed = (answer.headers.get('access-control-allow-headers') ?? '').toLowerCase();
  for (const header of ['authorization', 'dpop', 'content-type']) t.true(allowed.includes(header), header);
  t.true((answer.headers.get('access-control-allow-methods') ?? '').includes('DELETE'));
  t.is(answer.headers.get('access-control-max-age'), '600');
  t.is(answer.headers.get('access-control-allow-credentials'), null, 'tokens, never cookies');
  t.true(varies(answer));

  const token = await apiToken(server, 'spa@example.com', ['account:read']);
  const me = await fetch(`${server.url}/api/me`, { headers: { origin: SPA, authorization: `Bearer ${token}` } });
  t.is(me.status, 200);
  t.is(me.headers.get('access-control-allow-origin'), SPA);
  t.true(varies(me));
  const refused = await fetch(`${server.url}/api/me`, { headers: { origin: SPA } });
  t.is(refused.status, 401);
  t.is(refused.headers.get('access-control-allow-origin'), SPA, 'errors are readable too');
  t.true((refused.headers.get('access-control-expose-headers') ?? '').includes('WWW-Authenticate'));
});

test('an origin nobody registered gets no CORS header from /api or the token endpoints', async (t) => {
  const server = await startTestServer(t);
  await registerClient(server.app, { redirectUris: [`${SPA}/callback`], authMethod: 'none' });
  const token = await apiToken(server, 'spa@example.com', ['account:read']);
  for (const origin of [EVIL, 'null', `${SPA}:8443`, 'http://spa.example']) {
    const answer = await preflight(server, '/api/me', origin);
    t.deepEqual(corsHeaders(answer), [], `preflight from ${origin}`);
    t.true(varies(answer));
    const me = await fetch(`${server.url}/api/me`, { headers: { origin, authorization: `Bearer ${token}` } });
    t.is(me.status, 200, 'a request without CORS still runs: only the browser is kept from reading it');
    t.deepEqual(corsHeaders(me), [], `GET from ${origin}`);
    t.true(varies(me));
  }
  for (const path of ['/token', '/me', '/token/revocation', '/token/introspection', '/device/auth']) {
    const answer = await preflight(server, path, EVIL, 'POST');
    t.deepEqual(corsHeaders(answer), [], `preflight ${path}`);
    const post = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=nobody&grant_type=client_credentials',
    });
    t.is(post.status, 400, path);
    t.deepEqual(corsHeaders(post), [], `POST ${path}`);
    t.is(((await post.json()) as { error: string }).error, 'invalid_request');
  }
  // Without an Origin (a program, not a browser), nothing changes.
  const plain = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'client_id=nobody&grant_type=client_credentials',
  });
  t.is(((await plain.json()) as { error: string }).error, 'invalid_client');
});

test('the token endpoint allows a public client from its own origin only, and CORS_ORIGINS from any', async (t) => {
  const server = await startTestServer(t, { env: { CORS_ORIGINS: 'https://cdn.example' } });
  const spa = await registerClient(server.app, {
    redirectUris: [`${SPA}/callback`],
    authMethod: 'none',
    grantTypes: ['authorization_code', 'refresh_token'],
  });
  const other = await registerClient(server.app, { redirectUris: ['https://other.example/cb'], authMethod: 'none' });
  const answer = await preflight(server, '/token', SPA, 'POST');
  t.is(answer.status, 204);
  t.is(answer.headers.get('access-control-allow-origin'), SPA);
  t.true((answer.headers.get('access-control-allow-headers') ?? '').toLowerCase().includes('dpop'));
  t.truthy(answer.headers.get('access-control-max-age'));

  const redeem = (origin: string, clientId: string) =>
    fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: clientId,
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: `${SPA}/callback`,
        code_verifier: 'v'.repeat(43),
      }),
    });
  const own = await redeem(SPA, spa.clientId);
  t.is(own.headers.get('access-control-allow-origin'), SPA);
  t.is(((await own.json()) as { error: string }).error, 'invalid_grant', 'past CORS: the made-up code is refused');
  const borrowed = await redeem(SPA, other.clientId);
  const refusal = (await borrowed.json()) as { error: string; error_description: string };
  t.is(refusal.error, 'invalid_request', "another client's origin is not this client's");
  t.regex(refusal.error_description, /origin .* not allowed/);
  t.is(borrowed.headers.get('access-control-allow-origin'), null);
  const cdn = await redeem('https://cdn.example', spa.clientId);
  t.is(cdn.headers.get('access-control-allow-origin'), 'https://cdn.example');
  t.is(((await cdn.json()) as { error: string }).error, 'invalid_grant');
  const apiFromCdn = await preflight(server, '/api/me', 'https://cdn.example');
  t.is(apiFromCdn.headers.get('access-control-allow-origin'), 'https://cdn.example');
});

test('an origin is allowed from the moment its client is registered until it is removed', async (t) => {
  const server = await startTestServer(t);
  t.deepEqual(corsHeaders(await preflight(server, '/api/me', SPA)), []);
  const spa = await registerClient(server.app, { redirectUris: [`${SPA}/callback`], authMethod: 'none' });
  t.is((await preflight(server, '/api/me', SPA)).headers.get('access-control-allow-origin'), SPA);
  await server.app.clients.remove(spa.clientId, { type: 'system' });
  t.deepEqual(corsHeaders(await preflight(server, '/api/me', SPA)), []);
});
