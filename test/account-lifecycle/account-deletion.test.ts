import test from 'ava';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { accountByEmail, ageSignIn, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { joinByInvitation } from '../helpers/organizations.ts';
import { latestCode, outboxMessages } from '../helpers/outbox.ts';
import type { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';
import { outboxEvents } from '../helpers/events.ts';

const EMAIL = 'leaving@example.com';
// +1 415 555 2671 is a valid San Francisco number in libphonenumber's metadata (and nobody's phone).
const PHONE = '+14155552671';
const ORG_SCOPES = ['organizations:read', 'organizations:write'];

/** Every (table, column) of the database whose text holds `needle`: text, varchar and JSON columns alike. */
async function whereFound(server: TestServer, needle: string) {
  const { db } = server.app.services;
  const columns = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
      and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb')`.execute(db);
  const found: string[] = [];
  for (const { table_name, column_name } of columns.rows) {
    const { rows } = await sql<{ count: string }>`select count(*) as count from ${sql.table(table_name)}
      where strpos(${sql.ref(column_name)}::text, ${needle}) > 0`.execute(db);
    if (Number(rows[0]?.count) > 0) found.push(`${table_name}.${column_name}`);
  }
  return { found, columns: columns.rows.length };
}

async function addPhone(client: PageClient, server: TestServer) {
  const html = await (await client.request('/account/phone')).text();
  const asked = await submitForm(client, html, '/account/phone', { identifier: PHONE });
  if (asked.response.status !== 303) throw new Error(`asking for a phone code answered ${asked.response.status}`);
  const confirm = await (await client.request(asked.response.headers.get('location')!)).text();
  const confirmed = await submitForm(client, confirm, '/account/phone/confirm', {
    code: await latestCode(server.url, PHONE),
  });
  if (confirmed.response.status !== 303) throw new Error(`confirming the phone answered ${confirmed.response.status}`);
}

/** Posts the deletion form; its CSRF token from the overview, since the data page shows no form while deletion is refused. */
async function deleteAccount(client: PageClient, confirm = 'delete my account') {
  const html = await (await client.request('/account')).text();
  return submitForm(client, html, '/account/data/delete', { confirm });
}

async function refreshError(config: oidc.Configuration, refreshToken: string) {
  try {
    await oidc.refreshTokenGrant(config, refreshToken);
    return undefined;
  } catch (error) {
    return (error as oidc.ResponseBodyError).error;
  }
}

test('deleting an account erases the person from every table, keeps the ledger balanced, and frees the address for a new account', async (t) => {
  const server = await startTestServer(t);
  const { client: browser } = await signedInAt(server, '/account', EMAIL);
  await addPhone(browser, server);
  const before = await accountByEmail(server, EMAIL);
  t.is(before.phone_number, PHONE);

  // What a person leaves in other people's tables: an app with offline access, a membership by
  // invitation (the invitation and the organization's trail name the address), a linked identity,
  // an organization they own, and DUST moved to it.
  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Pixie Notes' });
  const notesConfig = await discover(server.url, clientId, clientSecret);
  const notes = await codeFlowWithOfflineAccess(server.url, notesConfig, EMAIL);
  const oldSub = notes.claims()!.sub;
  t.is(oldSub, before.id);
  const host = await apiToken(server, 'host@example.com', ORG_SCOPES);
  const hostOrg = (await callApi(server, host, 'POST', '/api/organizations', { name: 'Host Ring', slug: 'host' }))
    .body!;
  await joinByInvitation(server, host, hostOrg.id, EMAIL, 'admin');
  await server.app.services.db
    .insertInto('linked_identities')
    .values({
      id: 'planted-identity',
      account_id: before.id,
      provider: 'github',
      subject: 'gh-777',
      email: EMAIL,
      display_name: 'Leaving Person',
    })
    .execute();
  const mine = await apiTokens(server, EMAIL, [...ORG_SCOPES, 'dust:manage', 'offline_access']);
  const own = (
    await callApi(server, mine.tokens.access_token, 'POST', '/api/organizations', { name: 'My Glade', slug: 'glade' })
  ).body!;
  const moved = await fetch(`${server.url}/api/dust/transfers`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${mine.tokens.access_token}`,
      'content-type': 'application/json',
      'idempotency-key': 'move-5',
    },
    body: JSON.stringify({ organization_id: own.id, direction: 'to_organization', amount: 5 }),
  });
  t.is(moved.status, 201, await moved.clone().text());

  // Control: the search finds the person everywhere they are before the deletion.
  const found = (await whereFound(server, EMAIL)).found;
  for (const place of ['accounts.email', 'invitations.email', 'linked_identities.email', 'organization_events.details'])
    t.true(found.includes(place), `${EMAIL} is in ${place} before`);
  t.true((await whereFound(server, PHONE)).found.includes('accounts.phone_number'));

  // The last-owner rule: refused, with what to do, and nothing erased.
  const page = await (await browser.request('/account/data')).text();
  t.regex(page, /You are the only owner of My Glade\. Make someone else an owner, or delete the organization/);
  const refused = await deleteAccount(browser);
  t.is(refused.response.status, 409);
  t.regex(refused.html, /You are the only owner of My Glade/);
  t.is((await accountByEmail(server, EMAIL)).status, 'active');
  // Handing it over lifts the refusal.
  const { accountId: heir } = await joinByInvitation(
    server,
    mine.tokens.access_token,
    own.id,
    'heir@example.com',
    'member',
  );
  const promoted = await callApi(
    server,
    mine.tokens.access_token,
    'PATCH',
    `/api/organizations/${own.id}/members/${heir}`,
    {
      role: 'owner',
    },
  );
  t.is(promoted.status, 204);

  // A stale sign-in is sent to sign in again; a wrong confirmation changes nothing.
  await ageSignIn(server, EMAIL, 600);
  const stale = await deleteAccount(browser);
  t.is(stale.response.status, 302);
  t.is(new URL(stale.response.headers.get('location')!).searchParams.get('prompt'), 'login');
  await ageSignIn(server, EMAIL, -600);
  const typo = await deleteAccount(browser, 'delete my acount');
  t.is(typo.response.status, 400);
  t.regex(typo.html, /Type “delete my account” to confirm\./);
  t.is((await accountByEmail(server, EMAIL)).status, 'active');

  const deleted = await deleteAccount(browser, '  Delete my account ');
  t.is(deleted.response.status, 200);
  t.regex(deleted.html, /Your account is deleted/);
  t.regex(deleted.html, /We sent a note to the address it used\./);

  // Nothing of the person is left in any table.
  for (const needle of [EMAIL, PHONE, before.fairyname, 'Leaving Person', 'gh-777']) {
    const { found, columns } = await whereFound(server, needle);
    t.true(columns > 50, 'the search covers the schema');
    t.deepEqual(found, [], `${needle} is still in ${found.join(', ')}`);
  }
  const tombstone = await server.app.services.db
    .selectFrom('accounts')
    .selectAll()
    .where('id', '=', before.id)
    .executeTakeFirstOrThrow();
  t.like(tombstone, { status: 'deleted', email: null, phone_number: null, name: null, platform_owner: false });
  const leftovers = await Promise.all(
    (['memberships', 'passkeys', 'totp_factors', 'backup_codes', 'account_sessions', 'linked_identities'] as const).map(
      async (table) =>
        (
          await server.app.services.db
            .selectFrom(table)
            .select('account_id')
            .where('account_id', '=', before.id)
            .execute()
        ).length,
    ),
  );
  t.deepEqual(leftovers, [0, 0, 0, 0, 0, 0]);
  const audit = await server.app.services.audit.recentFor(before.id, 100);
  t.true(audit.some((event) => event.event === 'account_deleted'));
  t.true(audit.every((event) => event.ip === null && event.user_agent === null && event.detail === null));

  // The ledger still balances; the entries point at the tombstone's wallet.
  t.deepEqual(await server.app.services.ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
  t.is(await server.app.services.ledger.balance('organization', own.id), 5);
  t.is(await server.app.services.ledger.balance('person', before.id), 20);

  // The organizations go on without the person.
  const hostMembers = await callApi(server, host, 'GET', `/api/organizations/${hostOrg.id}/members`);
  t.deepEqual(
    hostMembers.body!.data.map((member: { email: string }) => member.email),
    ['host@example.com'],
  );

  // Everything the person had open is closed.
  t.is(await refreshError(notesConfig, notes.refresh_token!), 'invalid_grant');
  t.is((await callApi(server, mine.tokens.access_token, 'GET', '/api/organizations')).status, 401);
  t.is((await browser.request('/account')).status, 302);
  const revoked = (await outboxEvents(server.app.services.db, 'grant.revoked')).filter(
    (event) => event.subject.id === before.id,
  );
  t.true(revoked.length >= 2, 'the apps’ grants, each published');
  t.true(
    revoked.every((event) => event.actor.id === before.id && event.data.reason === 'account_deleted'),
    'by the person, who deleted their account',
  );

  const notice = (await outboxMessages(server.url)).find(
    (message) => message.to === EMAIL && message.subject === 'Your FairyID account was deleted',
  );
  t.truthy(notice, 'the old address is told');

  // The address signs up again: a new account, a new sub.
  const again = await codeFlowWithOfflineAccess(server.url, notesConfig, EMAIL);
  const newSub = again.claims()!.sub;
  t.not(newSub, oldSub);
  const fresh = await accountByEmail(server, EMAIL);
  t.is(fresh.id, newSub);
  t.is(fresh.status, 'active');
  t.is(await server.app.services.ledger.balance('person', fresh.id), 25, 'the new account gets its own welcome DUST');
  t.deepEqual(await server.app.services.ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
});

test('the deletion form refuses a forged request and a person who is not signed in', async (t) => {
  const server = await startTestServer(t);
  const { client } = await signedInAt(server, '/account/data', 'keeper@example.com');
  const forged = await client.request('/account/data/delete', {
    form: { _csrf: 'nope', confirm: 'delete my account' },
  });
  t.is(forged.status, 403);
  t.is((await accountByEmail(server, 'keeper@example.com')).status, 'active');
});

test('an account with an environment is not deleted until the environment is, and its name goes with the account', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  const email = 'builder@example.com';
  const { client } = await signedInAt(server, '/account/data', email);
  const { id } = await accountByEmail(server, email);
  // A stopped environment, as the environments service leaves one (planted: no machine is needed to refuse).
  await db
    .insertInto('environments')
    .values({
      id: 'env-1',
      account_id: id,
      organization_id: null,
      created_by: id,
      name: 'builders-secret-project',
      template: 'ubuntu',
      tier: 'small',
      size: 's-1vcpu-1gb',
      region: 'local',
      image: 'ubuntu',
      state: 'stopped',
      desired_state: 'stopped',
      client_public_key: 'ssh-ed25519 AAAA',
      client_private_key_sealed: 'sealed',
      host_public_key: 'ssh-ed25519 BBBB',
      host_private_key_sealed: 'sealed',
      idempotency_scope: `person:${id}`,
      idempotency_key: 'k1',
      request_hash: 'h',
      created_at: new Date(),
      updated_at: new Date(),
    } as never)
    .execute();

  t.regex(
    await (await client.request('/account/data')).text(),
    /You have an environment\. Delete it on the Environments page/,
  );
  const refused = await deleteAccount(client);
  t.is(refused.response.status, 409);
  t.is((await accountByEmail(server, email)).status, 'active');

  await db
    .updateTable('environments')
    .set({ state: 'deleted', deleted_at: new Date() } as never)
    .where('id', '=', 'env-1')
    .execute();
  const deleted = await deleteAccount(client);
  t.is(deleted.response.status, 200);
  t.deepEqual((await whereFound(server, 'builders-secret-project')).found, []);
});
