import { randomBytes } from 'node:crypto';
import test from 'ava';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiTokens, callApi } from '../helpers/api.ts';
import { nextAppCode, secretFromPage } from '../helpers/authenticator-app.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

const EMAIL = 'sprite@example.com';

test('the export holds every part of what FairyID keeps about the person, and none of their secrets', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;

  // An app with offline access, and an API token that creates an organization.
  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Pixie Notes' });
  const notes = await codeFlowWithOfflineAccess(server.url, await discover(server.url, clientId, clientSecret), EMAIL);
  const api = await apiTokens(server, EMAIL, ['offline_access', 'organizations:write']);
  const created = await callApi(server, api.tokens.access_token, 'POST', '/api/organizations', {
    name: 'Sprite Works',
    slug: 'sprite-works',
  });
  t.is(created.status, 201);

  // An authenticator app and its backup codes, through the security page.
  const { client } = await signedInAt(server, '/account/security', EMAIL);
  const setup = await (await client.request('/account/security/totp')).text();
  const totpSecret = secretFromPage(setup);
  const pending = /name="pending" value="([^"]+)"/.exec(setup)![1]!;
  const { code } = await nextAppCode(totpSecret, 0, server.clock);
  const enrolled = await submitForm(client, setup, '/account/security/totp', { pending, code });
  t.is(enrolled.response.status, 303);
  const codesPage = await (await client.request(enrolled.response.headers.get('location')!)).text();
  const backupCodes = [...codesPage.matchAll(/<li><code>([^<]+)<\/code>/g)].map((match) => match[1]!);
  t.is(backupCodes.length, 10);

  const account = await accountByEmail(server, EMAIL);
  // A passkey and a linked upstream identity, planted as their ceremonies would store them.
  const credentialId = randomBytes(32).toString('base64url');
  const publicKey = randomBytes(77);
  await db
    .insertInto('passkeys')
    .values({
      id: 'planted-passkey',
      account_id: account.id,
      credential_id: credentialId,
      public_key: publicKey,
      counter: 0,
      transports: JSON.stringify(['internal']),
      device_type: 'multiDevice',
      backed_up: true,
      name: 'Sprite’s phone',
    })
    .execute();
  await db
    .insertInto('linked_identities')
    .values({
      id: 'planted-identity',
      account_id: account.id,
      provider: 'github',
      subject: 'gh-4242',
      email: 'sprite@users.example',
      display_name: 'Sprite',
    })
    .execute();

  const response = await client.request('/account/data/export');
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  t.regex(
    response.headers.get('content-disposition') ?? '',
    /^attachment; filename="fairyid-\d{4}-\d{2}-\d{2}\.json"$/,
  );
  t.is(response.headers.get('cache-control'), 'no-store');
  const text = await response.text();
  const exported = JSON.parse(text);

  t.like(exported.profile, { sub: account.id, fairyname: account.fairyname, status: 'active' });
  t.like(exported.identifiers, { email: EMAIL, email_verified: true, phone_number: null });
  t.like(exported.factors.authenticator_app, { name: 'Authenticator app' });
  t.is(exported.factors.backup_codes_left, 10);
  t.like(exported.factors.passkeys[0], { name: 'Sprite’s phone', device_type: 'multiDevice', backed_up: true });
  t.true(exported.sessions.length >= 1);
  t.truthy(exported.sessions[0].user_agent !== undefined && exported.sessions[0].created_at);
  const apps = exported.grants.map((grant: { client_id: string }) => grant.client_id);
  t.true(apps.includes(clientId));
  t.true(apps.includes(api.config.clientMetadata().client_id));
  t.like(exported.memberships[0], { slug: 'sprite-works', role: 'owner' });
  t.is(exported.dust.balance, 25);
  t.like(exported.dust.history[0], { kind: 'signup_grant', amount: 25 });
  const events = exported.audit_events.map((event: { event: string }) => event.event);
  t.true(events.includes('sign_in'));
  t.true(events.includes('factor_added'));
  t.like(exported.linked_identities[0], { provider: 'github', subject: 'gh-4242', email: 'sprite@users.example' });

  // The secrets, every one of them, searched for in the whole file.
  const sealed = await db.selectFrom('totp_factors').select('sealed_secret').executeTakeFirstOrThrow();
  const hashes = await db.selectFrom('backup_codes').select('code_hash').execute();
  const sessions = await db.selectFrom('account_sessions').select(['session_id', 'session_uid']).execute();
  const sessionCookie = /(?:^|; )_session=([^;]+)/.exec(client.cookieHeader('/'))?.[1];
  t.truthy(sessionCookie);
  const secrets: [string, string][] = [
    ['the TOTP key', totpSecret],
    ['the sealed TOTP key', sealed.sealed_secret],
    ...backupCodes.map((value): [string, string] => ['a backup code', value]),
    ...backupCodes.map((value): [string, string] => ['a backup code without its dash', value.replace(/-/g, '')]),
    ...hashes.map(({ code_hash }): [string, string] => ['a backup code hash', code_hash]),
    ...sessions.map(({ session_id }): [string, string] => ['a session id', session_id]),
    ['the session cookie', sessionCookie!],
    ['the refresh token', notes.refresh_token!],
    ['the access token', notes.access_token],
    ['the ID token', notes.id_token!],
    ['the API token', api.tokens.access_token],
    ['the API refresh token', api.tokens.refresh_token!],
    ['the passkey credential id', credentialId],
    ['the passkey public key', publicKey.toString('base64url')],
    ['the passkey public key', publicKey.toString('base64')],
  ];
  for (const [what, value] of secrets) t.false(text.includes(value), `the export holds ${what}`);

  const exportedEvent = (await server.app.services.audit.recentFor(account.id)).find(
    (event) => event.event === 'account_exported',
  );
  t.truthy(exportedEvent, 'the download is in the audit trail');
});

test('the export is for the signed-in person only', async (t) => {
  const server = await startTestServer(t);
  const stranger = new PageClient(server.url);
  const response = await stranger.request('/account/data/export');
  t.is(response.status, 302);
  t.regex(response.headers.get('location') ?? '', /\/auth\?/);
});
