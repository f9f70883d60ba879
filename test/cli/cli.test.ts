import test, { type ExecutionContext } from 'ava';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { hashClientSecret } from '../../src/oidc/client-secrets.ts';
import { accountByEmail } from '../helpers/account-pages.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { type CliResult, runCli, runCliProcess } from '../helpers/cli-process.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { discover } from '../helpers/relying-party.ts';
import { clearRedisPrefix, startServer, testRedisEnv } from '../helpers/server.ts';

// The commands run in the test's own process (runCli), with the same parsing, configuration and
// output as `npm run cli`; a few run as the real process (runCliProcess) for what only it shows: its
// exit code, its entry file, and a client the operator registers working on a server. One test at a
// time: on the embedded database each command opens PGlite, which would compete for the CPU.

/**
 * Storage of the test's own that a separate process can open: a fresh Postgres database when
 * DATABASE_URL is set, otherwise a PGlite data folder (an in-memory one would die with the process).
 */
async function cliStorage(t: ExecutionContext) {
  const database = await createTestDatabase({ persisted: true });
  const redis = testRedisEnv();
  t.teardown(async () => {
    await database.drop();
    await clearRedisPrefix(redis);
  });
  const env = { ...database.env, ...redis };
  return {
    env,
    cli: (...args: string[]) => runCli(env, args),
    cliProcess: (...args: string[]) => runCliProcess(env, args),
  };
}

function succeeded(t: ExecutionContext, result: CliResult) {
  t.is(result.code, 0, `exit code 0 expected; stderr: ${result.stderr}`);
  return result.stdout;
}

type KeyLine = { kid: string; alg: string; published: boolean };

function parseKeys(stdout: string): KeyLine[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [kid, alg] = line.trim().split(/\s+/);
      return { kid: kid!, alg: alg!, published: line.trimEnd().endsWith('published') };
    });
}

const published = (keys: KeyLine[]) => keys.filter((key) => key.published);
const countByAlg = (keys: KeyLine[]) =>
  Object.fromEntries(['RS256', 'ES256', 'EdDSA'].map((alg) => [alg, keys.filter((key) => key.alg === alg).length]));

test.serial('clients add shows the secret once; show and list never do; remove deletes the client', async (t) => {
  const { cli } = await cliStorage(t);

  const added = JSON.parse(
    succeeded(t, await cli('clients', 'add', '--name', 'X', '--redirect-uri', 'https://app.example/cb', '--json')),
  ) as Record<string, unknown>;
  const clientId = added.client_id as string;
  const secret = added.client_secret as string;
  t.is(typeof clientId, 'string');
  t.is(typeof secret, 'string');
  t.true(secret.length >= 43, 'a 256-bit secret');
  t.is(added.client_name, 'X');
  t.deepEqual(added.redirect_uris, ['https://app.example/cb']);
  t.deepEqual(added.grant_types, ['authorization_code', 'refresh_token']);
  // Neither the secret nor the stored hash of it is shown again.
  const hash = hashClientSecret(secret);

  const shownJson = succeeded(t, await cli('clients', 'show', clientId, '--json'));
  const shown = JSON.parse(shownJson) as Record<string, unknown>;
  t.is(shown.client_id, clientId);
  t.is(shown.client_name, 'X');
  t.false('client_secret' in shown);
  const shownText = succeeded(t, await cli('clients', 'show', clientId));
  t.regex(shownText, new RegExp(`^client_id: ${clientId}$`, 'm'));
  for (const output of [shownJson, shownText]) {
    t.false(output.includes(secret));
    t.false(output.includes(hash));
  }

  const listed = succeeded(t, await cli('clients', 'list'));
  t.regex(listed, new RegExp(`^${clientId}\\s+X\\s+\\[authorization_code, refresh_token\\]$`, 'm'));
  const listedJson = succeeded(t, await cli('clients', 'list', '--json'));
  t.deepEqual(
    (JSON.parse(listedJson) as { client_id: string }[]).map((client) => client.client_id),
    [clientId],
  );
  for (const output of [listed, listedJson]) {
    t.false(output.includes(secret));
    t.false(output.includes(hash));
  }

  t.regex(succeeded(t, await cli('clients', 'remove', clientId)), /Removed client/);
  const missing = await cli('clients', 'show', clientId);
  t.is(missing.code, 2);
  t.regex(missing.stderr, new RegExp(`No client ${clientId}`));
  t.deepEqual(JSON.parse(succeeded(t, await cli('clients', 'list', '--json'))), []);
  t.is((await cli('clients', 'remove', clientId)).code, 2);
});

test.serial(
  'clients add refuses a plain-http redirect URI off loopback and one with a user name or password',
  async (t) => {
    const { cli } = await cliStorage(t);

    const plainHttp = await cli('clients', 'add', '--name', 'Web', '--redirect-uri', 'http://app.example/cb', '--json');
    t.is(plainHttp.code, 2);
    t.regex(plainHttp.stderr, /redirect_uris: http:\/\/app\.example\/cb must use https/);
    t.is(plainHttp.stdout, '', 'no client and no secret printed');

    const userinfo = await cli('clients', 'add', '--name', 'Web', '--redirect-uri', 'https://u:p@app.example/cb');
    t.is(userinfo.code, 2);
    t.regex(userinfo.stderr, /must not contain a user name or password/);

    const logout = await cli(
      ...['clients', 'add', '--name', 'Web', '--redirect-uri', 'https://app.example/cb'],
      ...['--post-logout-redirect-uri', 'http://app.example/bye'],
    );
    t.is(logout.code, 2);
    t.regex(logout.stderr, /post_logout_redirect_uris: .* must use https/);
    t.deepEqual(JSON.parse(succeeded(t, await cli('clients', 'list', '--json'))), []);

    const loopback = JSON.parse(
      succeeded(
        t,
        await cli(
          ...['clients', 'add', '--name', 'CLI', '--auth-method', 'none', '--json'],
          ...['--redirect-uri', 'http://127.0.0.1:8080/cb', '--redirect-uri', 'http://localhost:8080/cb'],
        ),
      ),
    ) as { redirect_uris: string[] };
    t.deepEqual(loopback.redirect_uris, ['http://127.0.0.1:8080/cb', 'http://localhost:8080/cb'], 'RFC 8252 loopback');
  },
);

test.serial('clients add with an invalid redirect URI exits 2, says what is wrong and creates nothing', async (t) => {
  const { cli } = await cliStorage(t);

  const invalid = await cli('clients', 'add', '--name', 'Bad', '--redirect-uri', 'not a url', '--json');
  t.is(invalid.code, 2);
  t.regex(invalid.stderr, /redirect_uris/);
  t.false(invalid.stderr.includes('    at '), 'no stack trace');
  t.is(invalid.stdout, '', 'no client and no secret printed');

  const nameless = await cli('clients', 'add', '--redirect-uri', 'https://app.example/cb');
  t.is(nameless.code, 2);
  t.regex(nameless.stderr, /--name is required/);

  t.deepEqual(JSON.parse(succeeded(t, await cli('clients', 'list', '--json'))), []);
});

test.serial('keys rotate adds a key per algorithm, and keys retire leaves one per algorithm', async (t) => {
  const { cli } = await cliStorage(t);

  const initial = parseKeys(succeeded(t, await cli('keys', 'list')));
  t.deepEqual(countByAlg(published(initial)), { RS256: 1, ES256: 1, EdDSA: 1 });
  t.is(initial.length, 3);

  const rotation = succeeded(t, await cli('keys', 'rotate'));
  const rotated = parseKeys(succeeded(t, await cli('keys', 'list')));
  t.deepEqual(countByAlg(published(rotated)), { RS256: 2, ES256: 2, EdDSA: 2 });
  const added = rotated.filter((key) => !initial.some((old) => old.kid === key.kid));
  t.is(added.length, 3);
  for (const key of added) t.true(rotation.includes(key.kid), `rotate names ${key.kid}`);

  const retirement = succeeded(t, await cli('keys', 'retire'));
  for (const key of initial) t.true(retirement.includes(key.kid), `retire names ${key.kid}`);
  const retired = parseKeys(succeeded(t, await cli('keys', 'list')));
  t.deepEqual(countByAlg(published(retired)), { RS256: 1, ES256: 1, EdDSA: 1 });
  t.deepEqual(
    published(retired)
      .map((key) => key.kid)
      .sort(),
    added.map((key) => key.kid).sort(),
    'the newest keys stay',
  );
  t.is(retired.length, 6, 'retired keys are still listed');

  t.regex(succeeded(t, await cli('keys', 'retire')), /Nothing to retire/);
});

test.serial('migrate succeeds (twice), and an unknown command exits 2 with the usage', async (t) => {
  const { cli, cliProcess } = await cliStorage(t);

  t.regex(succeeded(t, await cliProcess('migrate')), /up to date/);
  t.regex(succeeded(t, await cli('migrate')), /up to date/);

  const unknown = await cliProcess('frobnicate');
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Unknown command "frobnicate"/);
  t.regex(unknown.stderr, /Usage: npm run cli -- <command>/);
  t.regex(unknown.stderr, /clients add/);
});

test.serial('ledger verify passes on a consistent ledger and names what is wrong otherwise', async (t) => {
  const { env, cli } = await cliStorage(t);
  const server = await startServer(env);
  const { db, ledger } = server.app.services;
  await db.insertInto('accounts').values({ id: 'acc', email: 'acc@example.com', fairyname: 'cli_acc_0001' }).execute();
  await ledger.grantSignup('acc');
  // Corrupt the cache behind the ledger's back, as a bad manual fix would.
  await db
    .updateTable('wallets')
    .set({ balance: 99 } as never)
    .where('owner_id', '=', 'acc')
    .execute();
  await server.stop();

  const broken = await cli('ledger', 'verify');
  t.is(broken.code, 1);
  t.regex(broken.stdout, /cached balance 99, entries sum to 25/);
  t.is((await cli('ledger', 'check')).code, 2);
});

test.serial('a client added with the CLI gets tokens from a running server with the secret it printed', async (t) => {
  const { env, cliProcess } = await cliStorage(t);
  const added = JSON.parse(
    succeeded(
      t,
      await cliProcess(
        'clients',
        'add',
        '--name',
        'Machine',
        '--grant-type',
        'client_credentials',
        '--scope',
        'account:read',
        '--json',
      ),
    ),
  ) as { client_id: string; client_secret: string };

  // The CLI has exited (the embedded database serves one process at a time); the server opens the same storage.
  const server = await startServer(env);
  t.teardown(() => server.stop());

  const config = await discover(server.url, added.client_id, added.client_secret);
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'account:read' });
  const jwks = (await (await fetch(config.serverMetadata().jwks_uri!)).json()) as Parameters<
    typeof createLocalJWKSet
  >[0];
  const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
    issuer: server.url,
    audience: `${server.url}/api`,
  });
  t.is(payload.client_id, added.client_id);
  t.is(payload.scope, 'account:read');

  const wrong = await discover(server.url, added.client_id, `${added.client_secret.slice(0, -2)}xx`);
  const error = await t.throwsAsync(oidc.clientCredentialsGrant(wrong, { scope: 'account:read' }));
  t.is((error as oidc.ResponseBodyError).error, 'invalid_client');
});

test.serial('builders add and remove set the builder flag of the account with that email', async (t) => {
  const { env, cli } = await cliStorage(t);
  const nobody = await cli('builders', 'add', 'maker@example.com');
  t.is(nobody.code, 2);
  t.regex(nobody.stderr, /No account has the email maker@example.com/);
  t.is((await cli('builders', 'promote', 'maker@example.com')).code, 2);

  // The person signs in once; the server is stopped before the CLI opens the same storage.
  const first = await startServer(env);
  await apiToken(first, 'maker@example.com', ['account:read']);
  await first.stop();
  t.regex(succeeded(t, await cli('builders', 'add', 'Maker@Example.com')), /is now a builder/);

  const second = await startServer(env);
  const token = await apiToken(second, 'maker@example.com', ['account:read', 'clients:write']);
  const maker = await accountByEmail(second, 'maker@example.com');
  t.true(maker.builder);
  const registered = await callApi(second, token, 'POST', '/api/clients', {
    client_name: 'X',
    grant_types: ['client_credentials'],
    scope: 'account:read',
  });
  t.is(registered.status, 201);
  const { client_id: clientId, client_secret: clientSecret } = registered.body!;
  const machine = await oidc.clientCredentialsGrant(await discover(second.url, clientId, clientSecret), {
    scope: 'account:read',
    resource: `${second.url}/api`,
  });
  t.is((await callApi(second, machine.access_token, 'GET', '/api/me')).status, 403, 'control: the guard lets it by');
  await second.stop();
  t.regex(succeeded(t, await cli('builders', 'remove', 'maker@example.com')), /no longer a builder/);
  t.regex(succeeded(t, await cli('clients', 'remove', clientId)), /Removed client .*revoked/);

  // The CLI's changes are on the trail as the API's are: the same events, by the operator, from no address.
  const third = await startServer(env, { port: Number(new URL(second.url).port) });
  t.teardown(() => third.stop());
  const trail = await third.app.services.db
    .selectFrom('audit_events')
    .select(['event', 'account_id', 'client_id', 'ip', 'detail'])
    .where('event', 'in', ['builder_changed', 'client_removed'])
    .orderBy('id')
    .execute();
  const parsed = trail.map((row) => ({
    ...row,
    detail: typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail,
  }));
  t.deepEqual(parsed, [
    {
      event: 'builder_changed',
      account_id: maker.id,
      client_id: null,
      ip: null,
      detail: { builder: true, by: 'operator' },
    },
    {
      event: 'builder_changed',
      account_id: maker.id,
      client_id: null,
      ip: null,
      detail: { builder: false, by: 'operator' },
    },
    {
      event: 'client_removed',
      account_id: maker.id,
      client_id: clientId,
      ip: null,
      detail: { name: 'X', by: 'operator' },
    },
  ]);
  // The removed client's token, still unexpired, no longer passes /api.
  t.is((await callApi(third, machine.access_token, 'GET', '/api/me')).status, 401);
});
