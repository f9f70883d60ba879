import type { Command } from 'commander';
import * as oidc from 'openid-client';
import { Api } from '../api.ts';
import type { Credentials } from '../credentials.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { apiResource, DEFAULT_CLIENT_ID, describe, discover, LOGIN_SCOPES, oauthError } from '../oauth.ts';
import { emit, line, table, when } from '../output.ts';
import { lock, type Session } from '../session.ts';
import type { Run } from '../run.ts';
import { openBrowser } from '../browser.ts';

type Me = { id: string; fairyname: string; email: string | null };

export function authCommands(program: Command, run: Run) {
  const auth = program.command('auth').description('log in and out, and hand out access tokens');

  auth
    .command('login')
    .description('log in with the device flow: approve the code in a browser, on this device or any other')
    .option('--no-browser', 'only print the address and the code; do not open a browser')
    .option('--client-id <id>', `the OAuth client to log in as (default: FAIRY_CLIENT_ID, else ${DEFAULT_CLIENT_ID})`)
    .action(run(login));

  auth
    .command('status')
    .description('list the stored logins, which is the default per issuer, and when their tokens expire')
    .action(run(status));

  auth
    .command('token')
    .description('print a valid access token for the API, refreshing it first when needed: $(fairy auth token)')
    .action(run(token));

  auth
    .command('logout')
    .description('revoke the login at FairyID (RFC 7009), then forget its tokens')
    .action(run(logout));

  auth
    .command('switch')
    .description("make an account the issuer's default")
    .argument('<account>', 'a fairyname shown by fairy auth status')
    .action(run(switchAccount));
}

async function login(session: Session, options: { browser: boolean; clientId?: string }) {
  const issuer = await session.issuer();
  const clientId = options.clientId ?? process.env.FAIRY_CLIENT_ID ?? DEFAULT_CLIENT_ID;
  const config = await discover(issuer, clientId);
  const resource = apiResource(issuer);
  let device: oidc.DeviceAuthorizationResponse;
  try {
    device = await oidc.initiateDeviceAuthorization(config, { scope: LOGIN_SCOPES.join(' '), resource });
  } catch (error) {
    if (oauthError(error) === 'invalid_client') {
      throw new CliError(`${issuer} has no device-flow client "${clientId}" (${describe(error)}).`);
    }
    throw new CliError(`Could not start the login at ${issuer}: ${describe(error)}`);
  }
  // Instructions go to stderr: stdout stays for the result (and --json).
  process.stderr.write(
    `First copy your one-time code: ${device.user_code}\n` +
      `Then open ${device.verification_uri} in a browser, on this device or another, and enter it.\n`,
  );
  const complete = device.verification_uri_complete;
  if (options.browser && complete) {
    const opened = await openBrowser(complete);
    process.stderr.write(opened ? `Opened ${complete} in your browser.\n` : '');
  }
  process.stderr.write('Waiting for the approval...\n');

  let tokens: Awaited<ReturnType<typeof oidc.pollDeviceAuthorizationGrant>>;
  try {
    // openid-client waits `interval` between polls and adds 5 s on each slow_down (RFC 8628 3.5).
    tokens = await oidc.pollDeviceAuthorizationGrant(config, device, { resource });
  } catch (error) {
    const code = oauthError(error);
    // openid-client stops polling itself once the code's expires_in has passed (RFC 8628 3.2).
    if (code === 'expired_token' || (error as { code?: unknown }).code === 'OAUTH_TIMEOUT') {
      throw new CliError('The code expired before it was approved. Run `fairy auth login` again.', EXIT.auth);
    }
    if (code === 'access_denied')
      throw new CliError('The login was denied on the device page. Nothing was stored.', EXIT.auth);
    throw new CliError(`The login failed: ${describe(error)}`, EXIT.auth);
  }
  const now = Date.now();
  const me = await new Api(session, tokens.access_token).get<Me>('/api/me');
  const credentials: Credentials = {
    issuer,
    client_id: clientId,
    account: me.fairyname,
    sub: tokens.claims()?.sub ?? me.id,
    email: me.email,
    access_token: tokens.access_token,
    expires_at: now + (tokens.expires_in ?? 0) * 1000,
    refresh_token: tokens.refresh_token ?? null,
    scope: tokens.scope ?? '',
  };
  await session.store.write(credentials);
  const settings = await session.store.settings();
  await session.store.saveSettings({ issuer, accounts: { ...settings.accounts, [issuer]: me.fairyname } });
  emit(session.json, { issuer, account: me.fairyname, email: me.email, scope: credentials.scope }, () =>
    line(`Logged in to ${issuer} as ${me.fairyname}${me.email ? ` (${me.email})` : ''}.`),
  );
}

async function status(session: Session) {
  const settings = await session.store.settings();
  const issuerFilter = session.options.issuer ?? process.env.FAIRY_ISSUER;
  const only = issuerFilter ? await session.issuer() : undefined;
  const stored = (await session.store.list()).filter(
    (entry) => !only || !entry.credentials || entry.credentials.issuer === only,
  );
  const now = Date.now();
  const accounts = stored.flatMap(({ file, credentials }) =>
    credentials
      ? [
          {
            issuer: credentials.issuer,
            account: credentials.account,
            email: credentials.email,
            default: settings.accounts[credentials.issuer] === credentials.account,
            access_token_expires_at: new Date(credentials.expires_at).toISOString(),
            access_token_valid: credentials.expires_at > now,
            refresh_token: credentials.refresh_token !== null,
            scope: credentials.scope,
            file,
          },
        ]
      : [],
  );
  const problems = stored.flatMap(({ file, problem }) => (problem ? [{ file, problem }] : []));
  const fairyToken = Boolean(process.env.FAIRY_TOKEN);
  emit(session.json, { fairy_token: fairyToken, accounts, problems }, () => {
    if (fairyToken) line('FAIRY_TOKEN is set: every command uses it instead of the stored logins.');
    if (accounts.length === 0) line(only ? `Not logged in to ${only}.` : 'Not logged in anywhere.');
    table(
      ['ISSUER', 'ACCOUNT', 'EMAIL', 'DEFAULT', 'ACCESS TOKEN'],
      accounts.map((account) => [
        account.issuer,
        account.account,
        account.email,
        account.default ? 'yes' : '',
        `${account.access_token_valid ? 'valid until' : 'expired at'} ${when(account.access_token_expires_at)}${account.refresh_token ? ', refreshed on use' : ''}`,
      ]),
    );
    for (const { problem } of problems) process.stderr.write(`${problem}\n`);
  });
  if (problems.length > 0 || (accounts.length === 0 && !fairyToken)) process.exitCode = EXIT.auth;
}

async function token(session: Session) {
  const accessToken = await session.accessToken();
  emit(session.json, { access_token: accessToken }, () => line(accessToken));
}

async function logout(session: Session) {
  const { issuer, account } = await session.credentials();
  const release = await lock(session.store.path(issuer, account));
  try {
    // Read again under the lock: a concurrent refresh may have rotated the refresh token.
    const credentials = await session.store.read(issuer, account);
    if (credentials?.refresh_token) {
      const config = await discover(issuer, credentials.client_id);
      try {
        await oidc.tokenRevocation(config, credentials.refresh_token, { token_type_hint: 'refresh_token' });
      } catch (error) {
        throw new CliError(`FairyID did not revoke the login, so it is kept: ${describe(error)}`);
      }
    }
    await session.store.remove(issuer, account);
  } finally {
    await release();
  }
  const settings = await session.store.settings();
  if (settings.accounts[issuer] === account) {
    const remaining = (await session.store.list()).find((entry) => entry.credentials?.issuer === issuer)?.credentials;
    const accounts = { ...settings.accounts };
    if (remaining) accounts[issuer] = remaining.account;
    else delete accounts[issuer];
    await session.store.saveSettings({ ...settings, accounts });
  }
  emit(session.json, { issuer, account, revoked: true }, () => line(`Logged out of ${issuer} as ${account}.`));
}

async function switchAccount(session: Session, account: string) {
  const issuer = await session.issuer();
  if (!(await session.store.read(issuer, account))) {
    throw new CliError(`No login for ${account} at ${issuer}; see fairy auth status.`, EXIT.notFound);
  }
  const settings = await session.store.settings();
  await session.store.saveSettings({ ...settings, issuer, accounts: { ...settings.accounts, [issuer]: account } });
  emit(session.json, { issuer, account }, () => line(`${account} is now the default account at ${issuer}.`));
}
