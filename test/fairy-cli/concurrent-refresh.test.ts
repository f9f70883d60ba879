import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { callApi } from '../helpers/api.ts';
import { configHome, fairy, fairyEnv, loginWithCli } from '../helpers/fairy-cli.ts';
import { discover } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

type Stored = { access_token: string; refresh_token: string; expires_at: number };

/** A server, and a person logged in with the real CLI in a config home of their own. */
async function loggedIn(t: ExecutionContext, env: Record<string, string> = {}) {
  const server = await startTestServer(t, { env });
  const home = await configHome(t);
  await loginWithCli(server, fairyEnv(home, server), 'racer@example.com');
  const config = await discover(server.url, 'fairy-cli');
  const active = async (token: string) => (await oidc.tokenIntrospection(config, token)).active;
  return { server, home, active };
}

async function credentialsFile(home: string): Promise<string> {
  const settings = JSON.parse(await readFile(join(home, 'fairy', 'config.json'), 'utf8'));
  const [issuer, account] = Object.entries(settings.accounts as Record<string, string>)[0]!;
  return join(
    home,
    'fairy',
    'credentials',
    issuer.replace('://', '_').replace(/[^A-Za-z0-9.-]+/g, '_'),
    `${account}.json`,
  );
}

async function stored(home: string): Promise<Stored> {
  return JSON.parse(await readFile(await credentialsFile(home), 'utf8'));
}

/**
 * The access token's end as the CLI knows it: the file records expires_at from the token response's
 * expires_in. Moving it into the past is exactly what the file says an hour after the login; the
 * tokens in it stay the real ones FairyID issued (and the refresh token is as valid as it was).
 */
async function expireAccessToken(home: string) {
  const file = await credentialsFile(home);
  const credentials = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...credentials, expires_at: Date.now() - 1000 }));
}

/** Copies of one login in other config homes: what two machines (or containers) given the same file hold. */
async function copies(t: ExecutionContext, home: string, count: number): Promise<string[]> {
  const homes: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const copy = await configHome(t);
    await cp(join(home, 'fairy'), join(copy, 'fairy'), { recursive: true });
    homes.push(copy);
  }
  return homes;
}

const tokenWorks = async (server: TestServer, token: string) =>
  (await callApi(server, token, 'GET', '/api/whoami')).status === 200;

test('ten fairy auth token processes at once with an expired access token all succeed on one rotation', async (t) => {
  const { server, home, active } = await loggedIn(t);
  await expireAccessToken(home);
  const before = await stored(home);
  const env = fairyEnv(home, server);

  const results = await Promise.all(Array.from({ length: 10 }, () => fairy(['auth', 'token'], env)));

  for (const result of results) t.is(result.code, 0, result.stderr);
  const printed = new Set(results.map((result) => result.stdout.trim()));
  // One refresh issued one access token; the nine others waited for the lock, read the file again
  // and printed that token rather than presenting the rotated refresh token a second time.
  t.is(printed.size, 1, 'every process printed the token of the one refresh');
  const after = await stored(home);
  t.is(after.access_token, [...printed][0]!);
  t.true(after.expires_at > Date.now());
  t.not(after.refresh_token, before.refresh_token, 'the refresh token was rotated');
  t.false(await active(before.refresh_token), 'the rotated refresh token is spent');
  t.true(await active(after.refresh_token), 'its single successor carries the login on');
  t.true(await tokenWorks(server, after.access_token), 'the person is still logged in');
});

/**
 * A race the file lock cannot serialize: the same credentials in separate config homes, as on two
 * machines sharing a copied file. Every process then presents the same refresh token at once, which
 * is what the server's grace window and its reuse detection are about. (In one config home the lock
 * makes all but one process wait and re-read, so no rotated token would ever be presented again.)
 */
test('the same race without a shared lock and with the grace window off makes FairyID revoke the login', async (t) => {
  const { server, home, active } = await loggedIn(t, { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
  await expireAccessToken(home);
  const homes = [home, ...(await copies(t, home, 9))];

  const results = await Promise.all(homes.map((each) => fairy(['auth', 'token'], fairyEnv(each, server))));

  const ended = results.filter((result) => result.code === 3);
  t.true(ended.length > 0, 'the processes that presented the rotated token were refused');
  for (const result of ended)
    t.regex(
      result.stderr,
      /^fairy: The login for \w+ at \S+ has ended \(invalid_grant: .+\)\. Run `fairy auth login`\.\n$/,
    );
  for (const each of homes)
    t.false(await active((await stored(each)).refresh_token), 'no copy holds a live refresh token');
  for (const result of results.filter((each) => each.code === 0)) {
    t.false(await tokenWorks(server, result.stdout.trim()), 'even the winner’s access token died with the grant');
  }
});

/**
 * Two copies of one login, refreshed one after the other: the second presents the refresh token the
 * first has just rotated. The grace window answers it with the same successor; without the window
 * the same sequence revokes the login. This is the difference the window makes. (60 s, the longest
 * window allowed, so a slow machine between the two processes cannot close it.)
 */
for (const [grace, outcome] of [
  ['60', 'keeps the login'],
  ['0', 'revokes the login'],
] as const) {
  test(`a stale copy refreshing right after another with REFRESH_TOKEN_REUSE_GRACE_SECONDS=${grace} ${outcome}`, async (t) => {
    const { server, home, active } = await loggedIn(t, { REFRESH_TOKEN_REUSE_GRACE_SECONDS: grace });
    await expireAccessToken(home);
    const [copy] = await copies(t, home, 1);

    const first = await fairy(['auth', 'token'], fairyEnv(home, server));
    t.is(first.code, 0, first.stderr);
    const second = await fairy(['auth', 'token'], fairyEnv(copy!, server));

    if (grace === '60') {
      t.is(second.code, 0, second.stderr);
      t.is((await stored(copy!)).refresh_token, (await stored(home)).refresh_token, 'both hold the one successor');
      t.true(await active((await stored(home)).refresh_token));
      t.true(await tokenWorks(server, first.stdout.trim()));
      t.true(await tokenWorks(server, second.stdout.trim()));
    } else {
      t.is(second.code, 3);
      t.regex(second.stderr, /has ended \(invalid_grant/);
      t.false(await active((await stored(home)).refresh_token), 'the first copy lost its login too');
      t.false(await tokenWorks(server, first.stdout.trim()));
    }
  });
}
