import test from 'ava';
import { startTestServer } from '../helpers/server.ts';

const DISCOVERY = '/.well-known/openid-configuration';

test('discovery and the JWKS carry an ETag and Cache-Control, and If-None-Match answers 304 without a body', async (t) => {
  const server = await startTestServer(t);
  const { jwks_uri } = (await (await fetch(`${server.url}${DISCOVERY}`)).json()) as { jwks_uri: string };
  for (const url of [`${server.url}${DISCOVERY}`, jwks_uri]) {
    const first = await fetch(url);
    t.is(first.status, 200);
    const etag = first.headers.get('etag');
    t.regex(etag ?? '', /^"[\w-]+"$/, `${url} has a strong ETag`);
    t.regex(first.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
    // Every response keeps the headers the security middleware gives it.
    t.is(first.headers.get('x-content-type-options'), 'nosniff');
    const body = await first.text();

    const again = await fetch(url, { headers: { 'if-none-match': etag ?? '' } });
    t.is(again.status, 304);
    t.is(await again.text(), '');
    t.is(again.headers.get('etag'), etag);

    const stale = await fetch(url, { headers: { 'if-none-match': '"not-this-one"' } });
    t.is(stale.status, 200);
    t.is(await stale.text(), body);
  }
});

test('the precomputed documents are the ones oidc-provider renders for a CORS request', async (t) => {
  const server = await startTestServer(t);
  const plain = await fetch(`${server.url}${DISCOVERY}`);
  // A request with an Origin header goes to oidc-provider itself, which answers it per origin.
  const cors = await fetch(`${server.url}${DISCOVERY}`, { headers: { origin: 'https://rp.example' } });
  t.is(cors.headers.get('access-control-allow-origin'), 'https://rp.example');
  t.is(plain.headers.get('access-control-allow-origin'), '*');
  t.is(plain.headers.get('content-type'), cors.headers.get('content-type'));
  t.deepEqual(await plain.json(), await cors.json());
});

test('the endpoints in the discovery document follow the origin the request came to, as oidc-provider builds them', async (t) => {
  const server = await startTestServer(t);
  const port = new URL(server.url).port;
  const viaLocalhost = (await (await fetch(`http://localhost:${port}${DISCOVERY}`)).json()) as {
    token_endpoint: string;
  };
  const viaAddress = (await (await fetch(`${server.url}${DISCOVERY}`)).json()) as { token_endpoint: string };
  t.is(viaLocalhost.token_endpoint, `http://localhost:${port}/token`);
  t.is(viaAddress.token_endpoint, `${server.url}/token`);
});

test('a key rotation changes the JWKS and its ETag, and the old ETag no longer answers 304', async (t) => {
  const server = await startTestServer(t);
  const { jwks_uri } = (await (await fetch(`${server.url}${DISCOVERY}`)).json()) as { jwks_uri: string };
  const before = await fetch(jwks_uri);
  const oldEtag = before.headers.get('etag') ?? '';
  const oldKids = ((await before.json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);

  const newKids = await server.app.services.keys.rotate();
  t.true(await server.app.provider.refreshKeys());

  const after = await fetch(jwks_uri, { headers: { 'if-none-match': oldEtag } });
  t.is(after.status, 200);
  t.not(after.headers.get('etag'), oldEtag);
  const published = ((await after.json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
  t.deepEqual(published.slice().sort(), [...newKids, ...oldKids].sort());
});
