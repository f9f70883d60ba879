import test from 'ava';
import { signedInAt } from '../helpers/account-pages.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { csrfToken } from '../helpers/page-client.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { clearRedisPrefix, startServer, testRedisEnv, type TestServer } from '../helpers/server.ts';

// The reproductions of issue 11 (item 4), each answered in the shape its caller reads. The fuzz test
// (fuzz.test.ts) sends the same classes everywhere; these pin the shapes down.

const EMAIL = 'ada@example.com';
const UNCLEAN = /NUL byte or a broken Unicode character/;

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

async function jsonError(response: Response) {
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as { error: string; error_description: string },
  };
}

let server: TestServer;
let token: string;
let cleanUp: (() => Promise<void>) | undefined;

// One server for the file (hooks may not register teardowns): started before, stopped after.
test.before(async () => {
  const database = await createTestDatabase();
  const redis = testRedisEnv();
  server = await startServer({ ...database.env, ...redis, PLATFORM_OWNER_EMAIL: EMAIL });
  cleanUp = async () => {
    await server.stop();
    await database.drop();
    await clearRedisPrefix(redis);
  };
  token = await apiToken(server, EMAIL, [
    'organizations:read',
    'organizations:write',
    'dust:read',
    'dust:manage',
    'platform:manage',
  ]);
});

test.after.always(async () => {
  await cleanUp?.();
});

test('a NUL in a form field at the token, introspection, revocation and device endpoints is an OAuth invalid_request', async (t) => {
  for (const [path, fields] of [
    ['/token', { grant_type: 'client_credentials', client_id: 'a\u0000b' }],
    ['/token/introspection', { token: 'a\u0000b', client_id: 'x', client_secret: 'y' }],
    ['/token/revocation', { token: 'a\u0000b', client_id: 'x', client_secret: 'y' }],
    ['/device/auth', { client_id: 'a\u0000b' }],
  ] as const) {
    const answer = await jsonError(await fetch(`${server.url}${path}`, form(fields)));
    t.is(answer.status, 400, path);
    t.is(answer.body.error, 'invalid_request', path);
    t.regex(answer.body.error_description, UNCLEAN, path);
  }
});

test('a NUL in the client_id of an authorization request renders an error page and redirects nowhere', async (t) => {
  const response = await fetch(
    `${server.url}/auth?client_id=a%00b&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    { redirect: 'manual' },
  );
  t.is(response.status, 400);
  t.is(response.headers.get('location'), null);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(await response.text(), UNCLEAN);
});

test('/api refuses a NUL in a path, a NUL or a lone surrogate in JSON, in its one error shape', async (t) => {
  const path = await callApi(server, token, 'PUT', '/api/dust/allowances/%00', { amount: 1 });
  t.is(path.status, 400);
  t.is(path.body!.error, 'invalid_request');
  t.regex(path.body!.error_description, UNCLEAN);

  for (const name of ['a\u0000b', 'a\ud800b']) {
    const created = await callApi(server, token, 'POST', '/api/organizations', { name, slug: 'unclean' });
    t.is(created.status, 400);
    t.like(created.body, { error: 'invalid_request' });
  }
  const { body } = await callApi(server, token, 'GET', '/api/organizations');
  t.deepEqual(body!.data, []);
});

test('a crafted cursor (an out-of-range timestamp, a NUL id) is refused with 400 on every list', async (t) => {
  const cursor = (key: object) => Buffer.from(JSON.stringify(key)).toString('base64url');
  const crafted = [
    cursor({ at: '+275760-09-13T00:00:00.000Z', id: '00000000-0000-4000-8000-000000000000' }),
    cursor({ at: '2026-01-01T00:00:00.000Z', id: 'a\u0000b' }),
  ];
  for (const list of ['/api/organizations', '/api/dust/transactions', '/api/platform/organizations']) {
    for (const value of crafted) {
      const answer = await callApi(server, token, 'GET', `${list}?cursor=${value}`);
      t.is(answer.status, 400, list);
      t.is(answer.body!.error, 'invalid_request', list);
    }
  }
});

test('malformed JSON, JSON that is no object, and bodies over the limit are refused before any route', async (t) => {
  for (const body of ['{', 'null', '"str"', '123']) {
    const answer = await jsonError(
      await fetch(`${server.url}/interaction/nothing/passkey/sign-in/options`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    );
    t.is(answer.status, 400, body);
    t.is(answer.body.error, 'invalid_request', body);
  }
  const huge = await fetch(`${server.url}/api/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x'.repeat(70 * 1024) }),
  });
  t.is(huge.status, 413);
  t.is(((await huge.json()) as { error: string }).error, 'request_too_large');
});

test('the account pages answer a NUL in a form with an error page, and the passkey steps answer JSON whatever is posted', async (t) => {
  const { client } = await signedInAt(server, '/account', 'pages@example.com');
  const csrf = csrfToken(await (await client.request('/account')).text());
  const signOut = await client.request('/account/sessions/sign-out', { form: { _csrf: csrf, session: 'a\u0000b' } });
  t.is(signOut.status, 400);
  t.regex(await signOut.text(), UNCLEAN);
  const rename = await client.request('/account/security/totp/rename', { form: { _csrf: csrf, name: 'a\u0000b' } });
  t.is(rename.status, 400);
  const passkey = await client.request('/account/passkeys/%00/rename', { form: { _csrf: csrf, name: 'x' } });
  t.is(passkey.status, 400);

  for (const headers of [
    { 'content-type': 'application/x-www-form-urlencoded' },
    { 'content-type': 'text/plain' },
    {} as Record<string, string>,
  ]) {
    const answer = await client.request('/account/passkeys', {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': csrf },
    });
    t.true(answer.status >= 400 && answer.status < 500, `${JSON.stringify(headers)}: ${answer.status}`);
    t.regex(answer.headers.get('content-type') ?? '', /^application\/json/);
  }
});

test('a device sign-in address that was never opened is an error page, not a server error', async (t) => {
  const response = await fetch(`${server.url}/device/not-a-flow`, { redirect: 'manual' });
  t.is(response.status, 400);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
});

test('a body cut off mid-upload, or streamed past the limit without a length, leaves the server answering', async (t) => {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(server.url);
  // Declares 1000 bytes, sends 20, and goes away: the read fails, and nothing waits on it.
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST /token HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=client_cr`,
        () => {
          socket.destroy();
          resolve();
        },
      );
    });
    socket.on('error', reject);
  });
  // Chunked, so no declared length: refused when the bytes read pass 64 kB.
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 80; i += 1) controller.enqueue(new TextEncoder().encode(`a=${'x'.repeat(1022)}&`));
      controller.close();
    },
  });
  const streamed = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: chunks,
    duplex: 'half',
  } as RequestInit);
  t.is(streamed.status, 413);
  t.is(((await streamed.json()) as { error: string }).error, 'request_too_large');
  const after = await jsonError(
    await fetch(`${server.url}/token`, form({ grant_type: 'client_credentials', client_id: 'a\u0000b' })),
  );
  t.is(after.status, 400);
});
