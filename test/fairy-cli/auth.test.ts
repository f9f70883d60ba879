import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { callApi } from '../helpers/api.ts';
import { browserTest, phonePage } from '../helpers/browser.ts';
import { approveInChromium, configHome, fairy, fairyEnv, loginWithCli, startLogin } from '../helpers/fairy-cli.ts';
import { readForm } from '../helpers/html-form.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';

async function credentialsFile(home: string) {
  const status = await fairy(['auth', 'status', '--json'], { ...process.env, XDG_CONFIG_HOME: home, HOME: home });
  const [account] = JSON.parse(status.stdout).accounts as Array<{ file: string }>;
  return account!.file;
}

browserTest(
  'fairy auth login prints a code that a person approves in Chromium, and the CLI is logged in',
  async (t) => {
    const server = await startTestServer(t);
    const home = await configHome(t);
    const env = fairyEnv(home, server);

    const { login, userCode, verificationUri } = await startLogin(env);
    t.regex(userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    t.is(verificationUri, `${server.url}/device`);
    await approveInChromium(server, await phonePage(t), verificationUri, userCode, 'cli-person@example.com');
    const result = await login.done;
    t.is(result.code, 0, result.stderr);
    t.regex(
      result.stdout,
      /^Logged in to http:\/\/127\.0\.0\.1:\d+ as [a-z]+_[a-z]+_\d{4} \(cli-person@example\.com\)\.\n$/,
    );

    const status = await fairy(['auth', 'status'], env);
    t.is(status.code, 0, status.stderr);
    t.regex(status.stdout, /ISSUER\s+ACCOUNT\s+EMAIL\s+DEFAULT\s+ACCESS TOKEN/);
    t.regex(status.stdout, /cli-person@example\.com\s+yes\s+valid until .*, refreshed on use/);

    const token = await fairy(['auth', 'token'], env);
    t.is(token.code, 0, token.stderr);
    const whoami = await callApi(server, token.stdout.trim(), 'GET', '/api/whoami');
    t.is(whoami.status, 200, 'the printed token is one /api accepts');
    t.is(whoami.body!.client_id, 'fairy-cli');
    t.regex(whoami.body!.scope, /environments:connect/);

    const me = await fairy(['whoami'], env);
    t.is(me.code, 0, me.stderr);
    t.regex(me.stdout, new RegExp(`^[a-z]+_[a-z]+_\\d{4} \\(<cli-person@example\\.com>\\) at ${server.url}\\n`));
    const orgs = await fairy(['orgs', '--json'], env);
    t.deepEqual([orgs.code, JSON.parse(orgs.stdout)], [0, []]);
    const dust = await fairy(['dust', 'balance'], env);
    t.deepEqual([dust.code, dust.stdout], [0, '25 DUST\n']);
  },
);

test('credentials are stored 0600 in a 0700 folder under XDG_CONFIG_HOME', async (t) => {
  const server = await startTestServer(t);
  const home = await configHome(t);
  await loginWithCli(server, fairyEnv(home, server), 'files@example.com');

  const file = await credentialsFile(home);
  t.true(file.startsWith(join(home, 'fairy', 'credentials')));
  t.is((await stat(file)).mode & 0o777, 0o600);
  t.is((await stat(join(file, '..'))).mode & 0o777, 0o700);
  t.is((await stat(join(home, 'fairy'))).mode & 0o777, 0o700);
  t.is((await stat(join(home, 'fairy', 'config.json'))).mode & 0o777, 0o600);
});

test('a damaged credentials file gives a clear message and exit code 3, never a stack trace', async (t) => {
  const server = await startTestServer(t);
  const home = await configHome(t);
  const env = fairyEnv(home, server);
  await loginWithCli(server, env, 'damaged@example.com');
  const file = await credentialsFile(home);

  for (const damage of ['{"issuer": "http://x", "access_token"', '[]', '{"issuer": 1}', '']) {
    await writeFile(file, damage);
    for (const args of [
      ['auth', 'token'],
      ['auth', 'logout'],
    ]) {
      const result = await fairy(args, env);
      t.is(result.code, 3, `${args.join(' ')} with ${JSON.stringify(damage)}`);
      t.regex(
        result.stderr,
        new RegExp(
          `^fairy: The credentials file ${file} is damaged \\(.+\\)\\. Run \`fairy auth login\` to replace it, or delete the file\\.\\n$`,
        ),
      );
      t.is(result.stdout, '');
    }
  }
  const status = await fairy(['auth', 'status'], env);
  t.is(status.code, 3);
  t.regex(status.stderr, /is damaged/);
  t.notRegex(status.stderr, /\n\s+at /);
});

test('fairy auth logout revokes the refresh token at FairyID, then forgets the login', async (t) => {
  const server = await startTestServer(t);
  const home = await configHome(t);
  const env = fairyEnv(home, server);
  await loginWithCli(server, env, 'leaving@example.com');
  const { refresh_token } = JSON.parse(await readFile(await credentialsFile(home), 'utf8'));
  const config = await discover(server.url, 'fairy-cli');
  t.true((await oidc.tokenIntrospection(config, refresh_token)).active);

  const logout = await fairy(['auth', 'logout'], env);
  t.is(logout.code, 0, logout.stderr);
  t.regex(logout.stdout, /^Logged out of http:\/\/127\.0\.0\.1:\d+ as \w+\.\n$/);
  t.false((await oidc.tokenIntrospection(config, refresh_token)).active, 'FairyID no longer honours it');

  const token = await fairy(['auth', 'token'], env);
  t.is(token.code, 3);
  t.regex(token.stderr, /^fairy: Not logged in to http:\/\/127\.0\.0\.1:\d+\. Run `fairy auth login --issuer .+`\.\n$/);
  const status = await fairy(['auth', 'status', '--json'], env);
  t.deepEqual(JSON.parse(status.stdout), { fairy_token: false, accounts: [], problems: [] });
});

test('several accounts and issuers live side by side: a default per issuer, --account, --issuer, switch', async (t) => {
  const first = await startTestServer(t);
  const second = await startTestServer(t);
  const home = await configHome(t);
  const at = (server: typeof first) => fairyEnv(home, server);
  await loginWithCli(first, at(first), 'ada@example.com');
  await loginWithCli(first, at(first), 'bob@example.com');
  await loginWithCli(second, at(second), 'cy@example.com');
  const whoami = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
    const result = await fairy(['whoami', '--json', ...args], env);
    t.is(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { email: string; fairyname: string };
  };

  t.is((await whoami(at(first))).email, 'bob@example.com', 'the last login at an issuer is its default');
  t.is((await whoami(at(second))).email, 'cy@example.com');
  // Without FAIRY_ISSUER, --issuer picks the issuer, else the last one logged in to.
  const { FAIRY_ISSUER: _unset, ...noIssuer } = at(first);
  t.is((await whoami(noIssuer)).email, 'cy@example.com');
  t.is((await whoami(noIssuer, '--issuer', first.url)).email, 'bob@example.com');

  const status = JSON.parse((await fairy(['auth', 'status', '--json'], noIssuer)).stdout);
  t.deepEqual(
    status.accounts.map((account: any) => [account.issuer, account.email, account.default]).sort(),
    [
      [first.url, 'ada@example.com', false],
      [first.url, 'bob@example.com', true],
      [second.url, 'cy@example.com', true],
    ].sort(),
  );
  const adaName = status.accounts.find((account: any) => account.email === 'ada@example.com').account;
  t.is((await whoami(at(first), '--account', adaName)).email, 'ada@example.com');

  const switched = await fairy(['auth', 'switch', adaName], at(first));
  t.is(switched.stdout, `${adaName} is now the default account at ${first.url}.\n`);
  t.is((await whoami(at(first))).email, 'ada@example.com');
  t.is((await fairy(['auth', 'logout'], at(first))).code, 0);
  t.is(
    (await whoami(at(first))).email,
    'bob@example.com',
    'after logging out the default, another login there takes over',
  );
  t.is((await whoami(at(second))).email, 'cy@example.com', 'the other issuer is untouched');
});

test('a login denied on the device page ends with a clear message and exit code 3, storing nothing', async (t) => {
  const server = await startTestServer(t);
  const home = await configHome(t);
  const env = fairyEnv(home, server);
  const { login, userCode, verificationUri } = await startLogin(env);
  const browser = new PageClient(server.url);
  const input = readForm(await (await browser.request(verificationUri)).text());
  const confirmPage = await browser.request(input.action, { form: { ...input.fields, user_code: userCode } });
  const confirm = readForm(await confirmPage.text(), 'op.deviceConfirmForm');
  await browser.follow(confirm.action, { form: { ...confirm.fields, abort: 'yes' } });

  const result = await login.done;
  t.is(result.code, 3);
  t.regex(result.stderr, /\nfairy: The login was denied on the device page\. Nothing was stored\.\n$/);
  t.is(result.stdout, '');
  t.deepEqual(JSON.parse((await fairy(['auth', 'status', '--json'], env)).stdout).accounts, []);
});

test('a code nobody approves in time ends the login with a clear message and exit code 3', async (t) => {
  // A one-second code: openid-client stops polling once expires_in has passed (RFC 8628 3.2).
  const server = await startTestServer(t, { env: { DEVICE_CODE_TTL: '1' } });
  const { login } = await startLogin(fairyEnv(await configHome(t), server));
  const result = await login.done;
  t.is(result.code, 3);
  t.regex(result.stderr, /\nfairy: The code expired before it was approved\. Run `fairy auth login` again\.\n$/);
});
