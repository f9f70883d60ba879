import test, { type ExecutionContext } from 'ava';
import { startServer, startTestServer, testRedisEnv, clearRedisPrefix } from '../helpers/server.ts';
import { createTestDatabase } from '../helpers/database.ts';

const SECRET = 's'.repeat(40);

/** Responses of every kind: oidc-provider's own (404, discovery, keys, a protocol error, its logout form), and ours. */
const REQUESTS = [
  ['GET', '/'],
  ['GET', '/.well-known/openid-configuration'],
  ['GET', '/jwks'],
  ['POST', '/token'],
  ['GET', '/session/end'],
  ['GET', '/device'],
  ['GET', '/health'],
  ['GET', '/api/me'],
  ['GET', '/account'],
] as const;

async function responses(url: string) {
  return Promise.all(
    REQUESTS.map(async ([method, path]) => {
      const response = await fetch(url + path, { method, redirect: 'manual' });
      await response.body?.cancel();
      return { what: `${method} ${path} (${response.status})`, headers: response.headers };
    }),
  );
}

function everyResponseHasBaseHeaders(t: ExecutionContext, all: Awaited<ReturnType<typeof responses>>) {
  for (const { what, headers } of all) {
    t.is(headers.get('x-content-type-options'), 'nosniff', what);
    t.is(headers.get('referrer-policy'), 'no-referrer', what);
  }
}

test('every response, oidc-provider’s own included, says nosniff and no-referrer; no HSTS outside production', async (t) => {
  const server = await startTestServer(t);
  const all = await responses(server.url);
  everyResponseHasBaseHeaders(t, all);
  for (const { what, headers } of all) t.is(headers.get('strict-transport-security'), null, what);
});

test('in production on an https issuer, every response also carries Strict-Transport-Security', async (t) => {
  const database = await createTestDatabase();
  const redis = testRedisEnv();
  const server = await startServer(
    {
      ...database.env,
      ...redis,
      NODE_ENV: 'production',
      KEYS_SECRET: SECRET,
      COOKIE_KEYS: SECRET,
      SMTP_URL: 'smtp://127.0.0.1:1',
    },
    { issuer: 'https://id.example.test' },
  );
  t.teardown(async () => {
    await server.stop();
    await database.drop();
    await clearRedisPrefix(redis);
  });
  const all = await responses(server.url);
  everyResponseHasBaseHeaders(t, all);
  for (const { what, headers } of all) t.is(headers.get('strict-transport-security'), 'max-age=31536000', what);
});
