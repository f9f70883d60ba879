import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import { runClientsCommand } from '../../src/cli/clients.command.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiToken } from '../helpers/api.ts';
import { authorize, land, passEmailCode, submit } from '../helpers/authorization.ts';
import { nextAppCode, secretFromPage } from '../helpers/authenticator-app.ts';
import { outboxEvents, type PublishedEvent, refuseEvent } from '../helpers/events.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Every event here is written in the transaction of the change it describes. Each test makes the
// database refuse, at commit, the transaction that writes the event (the change's row is written
// before it), then lets the same request through: the refused one leaves neither the change nor the
// event, the next one both and exactly one event. A change committed on its own would survive.

const CLIENT_SCOPES = ['account:read', 'clients:read', 'clients:write'];

const eventsAbout = async (server: TestServer, type: string, subjectId: string): Promise<PublishedEvent[]> =>
  (await outboxEvents(server.app.services.db, type)).filter((event) => event.subject.id === subjectId);

const requestId = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

/** A JSON call to /api with our own X-Request-Id. */
async function api(server: TestServer, token: string, path: string, id: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'x-request-id': id,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** The one event there must be: by the person, stamped with the id of the request that made the change. */
function onlyEventBy(t: ExecutionContext, events: PublishedEvent[], accountId: string, id: string) {
  t.is(events.length, 1);
  const [event] = events;
  t.is(event?.actor.type, 'account');
  t.is(event?.actor.id, accountId);
  t.is(event?.request_id, id);
  return event;
}

test('client.created and client.secret_rotated commit with the client, or neither is kept', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  const email = 'builder@example.com';
  const { client, html } = await signedInAt(server, '/account/developer', email);
  t.is((await submitForm(client, html, '/account/developer/builder', { builder: 'on' })).response.status, 303);
  const token = await apiToken(server, email, CLIENT_SCOPES);
  const account = await accountByEmail(server, email);
  const worker = (name: string) => ({ client_name: name, grant_types: ['client_credentials'], scope: 'account:read' });
  const named = (name: string) =>
    db.selectFrom('clients').select('client_id').where(sql<boolean>`metadata->>'client_name' = ${name}`).execute();
  const createdNamed = async (name: string) =>
    (await outboxEvents(db, 'client.created')).filter((event) => event.data.name === name);

  await refuseEvent(t, db, 'client.created', 'client:%', `r.payload->'data'->>'name' = 'Refused worker'`);
  t.is((await api(server, token, '/api/clients', requestId('refused'), worker('Refused worker'))).status, 500);
  t.deepEqual(await named('Refused worker'), []);
  t.deepEqual(await createdNamed('Refused worker'), []);

  const id = requestId('register');
  const registered = await api(server, token, '/api/clients', id, worker('Good worker'));
  t.is(registered.status, 201);
  const clientId = registered.body!.client_id as string;
  const createdEvent = onlyEventBy(t, await eventsAbout(server, 'client.created', clientId), account.id, id);
  t.deepEqual(createdEvent?.data, { client_id: clientId, name: 'Good worker' });

  const secretHash = async () =>
    (await db.selectFrom('clients').select('metadata').where('client_id', '=', clientId).executeTakeFirstOrThrow())
      .metadata.client_secret;
  const before = await secretHash();
  const allowRotation = await refuseEvent(t, db, 'client.secret_rotated', `client:${clientId}`);
  t.is((await api(server, token, `/api/clients/${clientId}/secret`, requestId('refused'))).status, 500);
  t.is(await secretHash(), before, 'the old secret is still the one stored');
  t.deepEqual(await eventsAbout(server, 'client.secret_rotated', clientId), []);

  await allowRotation();
  const rotation = requestId('rotate');
  const rotated = await api(server, token, `/api/clients/${clientId}/secret`, rotation);
  t.true(rotated.status < 300, JSON.stringify(rotated.body));
  t.not(await secretHash(), before);
  onlyEventBy(t, await eventsAbout(server, 'client.secret_rotated', clientId), account.id, rotation);
});

test('a client the operator registers with the CLI publishes client.created by FairyID itself, or neither is kept', async (t) => {
  const server = await startTestServer(t);
  const { db, audit, events } = server.app.services;
  const context = { clients: async () => server.app.clients, audit, events, print: () => {} } as unknown as CliContext;
  const add = (id: string) =>
    runClientsCommand(context, [
      'add',
      '--name',
      'Operator app',
      '--client-id',
      id,
      '--redirect-uri',
      'https://operator.example/cb',
    ]);

  const allow = await refuseEvent(t, db, 'client.created', 'client:refused-app');
  await t.throwsAsync(add('refused-app'));
  t.is(await server.app.clients.find('refused-app'), undefined);
  t.deepEqual(await eventsAbout(server, 'client.created', 'refused-app'), []);
  await allow();

  await add('operator-app');
  const published = await eventsAbout(server, 'client.created', 'operator-app');
  t.is(published.length, 1);
  t.like(published[0], { actor: { type: 'system' }, data: { client_id: 'operator-app', name: 'Operator app' } });
});

test('account.updated commits with the profile change, or neither is kept', async (t) => {
  const server = await startTestServer(t);
  const email = 'puck@example.com';
  const { client, html } = await signedInAt(server, '/account', email);
  const account = await accountByEmail(server, email);
  const save = (name: string, id: string) =>
    submitForm(client, html, '/account/profile', { name, picture: '' }, { 'x-request-id': id });

  const allow = await refuseEvent(t, server.app.services.db, 'account.updated', `account:${account.id}`);
  t.is((await save('Refused Name', requestId('refused'))).response.status, 500);
  t.is((await accountByEmail(server, email)).name, account.name);
  t.deepEqual(await eventsAbout(server, 'account.updated', account.id), []);

  await allow();
  const id = requestId('profile');
  t.is((await save('Puck', id)).response.status, 303);
  t.is((await accountByEmail(server, email)).name, 'Puck');
  const event = onlyEventBy(t, await eventsAbout(server, 'account.updated', account.id), account.id, id);
  t.deepEqual(event?.data, { fields: ['profile'] });
});

test('account.updated commits with a new email address, or neither is kept', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  const before = 'bottom@example.com';
  const after = 'bottom-new@example.com';
  const { client, html } = await signedInAt(server, '/account/email', before);
  const account = await accountByEmail(server, before);
  const asked = await submitForm(client, html, '/account/email', { identifier: after });
  t.is(asked.response.status, 303);
  const confirmPage = await (await client.request('/account/email/confirm')).text();
  const confirm = async (id: string) =>
    submitForm(
      client,
      confirmPage,
      '/account/email/confirm',
      { code: await latestCode(server.url, after) },
      {
        'x-request-id': id,
      },
    );
  const emailOf = async () =>
    (await db.selectFrom('accounts').select('email').where('id', '=', account.id).executeTakeFirstOrThrow()).email;

  const allow = await refuseEvent(t, db, 'account.updated', `account:${account.id}`);
  t.is((await confirm(requestId('refused'))).response.status, 500);
  t.is(await emailOf(), before);
  t.deepEqual(await eventsAbout(server, 'account.updated', account.id), []);

  await allow();
  // The refused request spent its code: the person asks again, once the resend wait is over.
  server.clock.advance(120);
  t.is((await submitForm(client, html, '/account/email', { identifier: after })).response.status, 303);
  const id = requestId('email');
  const confirmed = await confirm(id);
  t.is(confirmed.response.status, 303);
  t.is(await emailOf(), after);
  const event = onlyEventBy(t, await eventsAbout(server, 'account.updated', account.id), account.id, id);
  t.deepEqual(event?.data, { fields: ['email'] });
});

// The confirm page's answer: removals take two presses (src/account-pages/confirm-step.ts).
const CONFIRMED = { confirm: 'yes' };

test('account.factor_added and account.factor_removed commit with the factor, or neither is kept', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  const email = 'oberon@example.com';
  const { client } = await signedInAt(server, '/account/security', email);
  const account = await accountByEmail(server, email);
  const totpRows = () =>
    db.selectFrom('totp_factors').select('account_id').where('account_id', '=', account.id).execute();
  const factorEvents = async (type: string, factor: string) =>
    (await eventsAbout(server, type, account.id)).filter((event) => event.data.factor === factor);

  // An authenticator app, through the security page.
  const setup = await (await client.request('/account/security/totp')).text();
  const pending = /name="pending" value="([^"]+)"/.exec(setup)![1]!;
  const { code } = await nextAppCode(secretFromPage(setup), 0, server.clock);
  const enroll = (id: string) =>
    submitForm(client, setup, '/account/security/totp', { pending, code }, { 'x-request-id': id });
  const refuseTotp = await refuseEvent(t, db, 'account.factor_added', `account:${account.id}`);
  t.is((await enroll(requestId('refused'))).response.status, 500);
  t.deepEqual(await totpRows(), []);
  t.deepEqual(await factorEvents('account.factor_added', 'totp'), []);
  await refuseTotp();
  const added = requestId('totp-added');
  t.is((await enroll(added)).response.status, 303);
  t.is((await totpRows()).length, 1);
  const addedEvent = onlyEventBy(t, await factorEvents('account.factor_added', 'totp'), account.id, added);
  t.is(addedEvent?.actor.client_id, null, 'on their own pages no app acts for the person');

  const security = await (await client.request('/account/security')).text();
  const removeTotp = (id: string) =>
    submitForm(client, security, '/account/security/totp/remove', CONFIRMED, { 'x-request-id': id });
  const refuseRemoval = await refuseEvent(t, db, 'account.factor_removed', `account:${account.id}`);
  t.is((await removeTotp(requestId('refused'))).response.status, 500);
  t.is((await totpRows()).length, 1, 'the app is still there');
  t.deepEqual(await factorEvents('account.factor_removed', 'totp'), []);
  await refuseRemoval();
  const removed = requestId('totp-removed');
  t.is((await removeTotp(removed)).response.status, 303);
  t.deepEqual(await totpRows(), []);
  onlyEventBy(t, await factorEvents('account.factor_removed', 'totp'), account.id, removed);

  // A passkey, planted as its ceremony would store it, removed on the passkeys page.
  await db
    .insertInto('passkeys')
    .values({
      id: 'planted-passkey',
      account_id: account.id,
      credential_id: randomBytes(32).toString('base64url'),
      public_key: randomBytes(77),
      counter: 0,
      transports: JSON.stringify(['internal']),
      device_type: 'multiDevice',
      backed_up: true,
      name: 'Oberon’s phone',
    })
    .execute();
  const passkeyRows = () => db.selectFrom('passkeys').select('id').where('account_id', '=', account.id).execute();
  const page = await (await client.request('/account/passkeys')).text();
  const removePasskey = (id: string) =>
    submitForm(client, page, '/account/passkeys/planted-passkey/remove', CONFIRMED, { 'x-request-id': id });
  const refusePasskey = await refuseEvent(t, db, 'account.factor_removed', `account:${account.id}`);
  t.is((await removePasskey(requestId('refused'))).response.status, 500);
  t.is((await passkeyRows()).length, 1);
  t.deepEqual(await factorEvents('account.factor_removed', 'passkey'), []);
  await refusePasskey();
  const passkeyRemoved = requestId('passkey-removed');
  t.is((await removePasskey(passkeyRemoved)).response.status, 303);
  t.deepEqual(await passkeyRows(), []);
  onlyEventBy(t, await factorEvents('account.factor_removed', 'passkey'), account.id, passkeyRemoved);
});

test('an authenticator app set up during a sign-in is added by the person through the app they signed in to', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  const config = await discover(server.url, clientId, clientSecret);
  const email = 'cobweb@example.com';
  const flow = await authorize(server, config, { acr_values: 'mfa' });
  const enroll = await passEmailCode(server, flow.client, flow, email);
  const setup = await land(flow.client, `${enroll.url.pathname}/totp-setup`);
  const { code } = await nextAppCode(secretFromPage(setup.html), 0, server.clock);
  const pending = /name="pending" value="([^"]+)"/.exec(setup.html)![1]!;
  await submit(flow.client, setup, '/mfa/totp-setup', { code, pending });
  const account = await accountByEmail(server, email);
  const [added, ...more] = (await eventsAbout(server, 'account.factor_added', account.id)).filter(
    (event) => event.data.factor === 'totp',
  );
  t.is(more.length, 0);
  t.like(added, { actor: { type: 'account', id: account.id, client_id: clientId } });
  t.truthy(added?.request_id);
});

test('session.revoked commits with the session row closed, or neither is kept', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  const email = 'titania@example.com';
  await signedInAt(server, '/account/sessions', email);
  const other = await signedInAt(server, '/account/sessions', email);
  const account = await accountByEmail(server, email);
  const [first] = [...other.html.matchAll(/name="session" value="([^"]+)"/g)].map((match) => match[1]!);
  if (!first) throw new Error('the other device is not listed');
  const ended = async () =>
    (
      await db
        .selectFrom('account_sessions')
        .select('ended_at')
        .where('session_uid', '=', first)
        .executeTakeFirstOrThrow()
    ).ended_at;
  const signOut = (id: string) =>
    submitForm(other.client, other.html, '/account/sessions/sign-out', { session: first }, { 'x-request-id': id });

  const allow = await refuseEvent(t, db, 'session.revoked', `account:${account.id}`);
  t.is((await signOut(requestId('refused'))).response.status, 500);
  t.is(await ended(), null);
  t.deepEqual(await eventsAbout(server, 'session.revoked', account.id), []);

  await allow();
  const id = requestId('sign-out');
  t.is((await signOut(id)).response.status, 303);
  t.truthy(await ended());
  const event = onlyEventBy(t, await eventsAbout(server, 'session.revoked', account.id), account.id, id);
  t.deepEqual(event?.data, { session_id: first });
});
