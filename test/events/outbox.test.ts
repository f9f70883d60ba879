import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import { createLogger } from '../../src/http/logger.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { outboxEvents } from '../helpers/events.ts';
import { latestCode } from '../helpers/outbox.ts';
import { joinByInvitation } from '../helpers/organizations.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

// One server for the file: every event is looked for by its type and subject, so tests do not collide.
const lines: Record<string, unknown>[] = [];
let server: TestServer;

// Hooks may not register teardowns: the file's cleanups run after every test.
const cleanups: (() => unknown)[] = [];
const fileScope = { teardown: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as ExecutionContext;
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test.before(async () => {
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  server = await startTestServer(fileScope, {
    log,
    env: { LOCKOUT_AFTER_FAILURES: '2/600', LOCKOUT_SECONDS: '600', EVENTS_POLL_MS: '60000' },
  });
});

const accountIdOf = async (email: string) =>
  (
    await server.app.services.db
      .selectFrom('accounts')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirstOrThrow()
  ).id;

/** The request log line of the request with this id. */
const requestLine = (requestId: string | null) =>
  lines.find((line) => line.msg === 'request' && line.requestId === requestId) as
    | { method: string; path: string }
    | undefined;

async function charge(token: string, body: unknown, requestId: string) {
  const response = await fetch(`${server.url}/api/dust/charges`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
      'x-request-id': requestId,
    },
    body: JSON.stringify(body),
  });
  return response.status;
}

test.serial(
  'a charge that fails after its ledger rows are written leaves neither the charge nor its event; a successful one yields exactly one',
  async (t) => {
    const { db } = server.app.services;
    const token = await apiToken(server, 'payer@example.com', ['dust:spend']);
    const accountId = await accountIdOf('payer@example.com');
    // Forced: the database refuses this one charge at commit, after the ledger rows and the event are written.
    await sql`
    create function refuse_marked_charge() returns trigger language plpgsql as $$
    begin
      if new.description = 'refuse at commit' then raise exception 'forced failure'; end if;
      return null;
    end $$`.execute(db);
    await sql`
    create constraint trigger refuse_marked_charge after insert on ledger_transactions
    deferrable initially deferred for each row execute function refuse_marked_charge()`.execute(db);
    const charges = () =>
      db
        .selectFrom('ledger_transactions')
        .selectAll()
        .where('kind', '=', 'charge')
        .where('account_id', '=', accountId)
        .execute();
    const chargedEvents = async () =>
      (await outboxEvents(db, 'dust.charged')).filter((event) => event.subject.id === accountId);

    t.is(await charge(token, { amount: 3, description: 'refuse at commit' }, 'forced-failure-0001'), 500);
    t.is((await charges()).length, 0);
    t.is((await chargedEvents()).length, 0);

    t.is(await charge(token, { amount: 2, description: 'a coffee' }, 'good-charge-0001'), 201);
    const [booked] = await charges();
    const events = await chargedEvents();
    t.is(events.length, 1);
    t.like(events[0], {
      type: 'dust.charged',
      version: 1,
      subject: { type: 'account', id: accountId },
      request_id: 'good-charge-0001',
      data: { transaction_id: booked?.id, amount: 2, kind: 'charge', account_id: accountId },
    });
    t.is(events[0]?.actor.type, 'account');
    t.is(events[0]?.actor.id, accountId);
  },
);

test.serial(
  'a sign-in and a lockout publish their events with the right actor and the request id of the request that caused them',
  async (t) => {
    const { db } = server.app.services;
    const email = 'lock-me@example.com';
    await apiToken(server, email, []);
    const accountId = await accountIdOf(email);
    const [signedIn] = (await outboxEvents(db, 'account.signed_in')).filter((event) => event.subject.id === accountId);
    t.like(signedIn, { actor: { type: 'account', id: accountId }, data: { method: 'email', created: true } });
    t.truthy(signedIn?.actor.client_id);
    t.like(requestLine(signedIn?.request_id ?? null), { method: 'POST' });
    t.regex(requestLine(signedIn?.request_id ?? null)?.path ?? '', /\/code$/);
    const [created] = (await outboxEvents(db, 'account.created')).filter((event) => event.subject.id === accountId);
    t.is(created?.request_id, signedIn?.request_id, 'the account was created by the same request');

    const page = await openSignInPage(server);
    const asked = await askForCode(page.client, page.html, email);
    const code = await latestCode(server.url, email);
    for (let attempt = 0; attempt < 2; attempt += 1) await submitCode(page.client, asked.html, otherThan(code));
    const [locked] = (await outboxEvents(db, 'account.locked')).filter((event) => event.subject.id === accountId);
    t.truthy(locked, 'the lockout was published');
    // Nobody is signed in during a lockout: the attempts came through the app.
    t.is(locked?.actor.type, 'client');
    t.is(locked?.actor.id, page.config.clientMetadata().client_id);
    t.like(requestLine(locked?.request_id ?? null), { method: 'POST' });
    const failed = (await outboxEvents(db, 'account.sign_in_failed')).filter((event) => event.subject.id === accountId);
    t.true(failed.length >= 1);
  },
);

test.serial(
  'a member change publishes organization.member_role_changed with the acting owner and the request id',
  async (t) => {
    const { db } = server.app.services;
    const owner = await apiToken(server, 'owner@example.com', ['organizations:read', 'organizations:write']);
    const ownerId = await accountIdOf('owner@example.com');
    const org = await callApi(server, owner, 'POST', '/api/organizations', { name: 'Events Inc', slug: 'events-inc' });
    const orgId = org.body?.id as string;
    const { accountId: memberId } = await joinByInvitation(server, owner, orgId, 'member@example.com', 'member');

    const response = await fetch(`${server.url}/api/organizations/${orgId}/members/${memberId}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${owner}`,
        'content-type': 'application/json',
        'x-request-id': 'role-change-0001',
      },
      body: JSON.stringify({ role: 'admin' }),
    });
    t.is(response.status, 204);
    const changed = (await outboxEvents(db, 'organization.member_role_changed')).filter(
      (event) => event.organization_id === orgId,
    );
    t.is(changed.length, 1);
    t.like(changed[0], {
      actor: { type: 'account', id: ownerId },
      subject: { type: 'account', id: memberId },
      organization_id: orgId,
      request_id: 'role-change-0001',
      data: { account_id: memberId, from: 'member', to: 'admin' },
    });
    const added = (await outboxEvents(db, 'organization.member_added')).filter(
      (event) => event.organization_id === orgId,
    );
    t.deepEqual(
      added.map((event) => [event.subject.id, event.data.via]),
      [
        [ownerId, 'creation'],
        [memberId, 'invitation'],
      ],
    );
    t.is((await outboxEvents(db, 'invitation.accepted')).filter((event) => event.organization_id === orgId).length, 1);
  },
);

test.serial(
  'the event catalog is published with a JSON Schema per event type, and in the OpenAPI document',
  async (t) => {
    const catalog = (await (await fetch(`${server.url}/api/events/schemas`)).json()) as {
      version: string;
      events: { type: string; version: number; schema: { properties: Record<string, unknown>; required: string[] } }[];
    };
    const types = catalog.events.map((event) => event.type);
    for (const type of [
      'account.created',
      'account.signed_in',
      'account.locked',
      'organization.member_role_changed',
      'dust.charged',
      'environment.stopped',
      'client.secret_rotated',
    ])
      t.true(types.includes(type), type);
    const charged = catalog.events.find((event) => event.type === 'dust.charged');
    t.deepEqual([...(charged?.schema.required ?? [])].sort(), [
      'actor',
      'data',
      'id',
      'organization_id',
      'request_id',
      'subject',
      'time',
      'type',
      'version',
    ]);
    const openApi = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      components: { schemas: Record<string, unknown> };
    };
    t.truthy(openApi.components.schemas['Event.dust.charged']);
  },
);
