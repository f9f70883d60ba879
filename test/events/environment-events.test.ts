import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { testClock } from '../helpers/clock.ts';
import {
  ENVIRONMENT_SCOPES,
  environmentStorage,
  startEnvironmentServer,
  waitForState,
} from '../helpers/environments.ts';
import { outboxEvents, refuseEvent } from '../helpers/events.ts';
import { until } from '../helpers/machines.ts';
import { accountByEmail } from '../helpers/account-pages.ts';
import type { TestServer } from '../helpers/server.ts';
import type { TestClock } from '../helpers/clock.ts';

// Local machines (a real sshd each) need root; serial, as local machines side by side have tripped
// over each other's run folders.
const rootTest = process.getuid?.() === 0 ? test.serial : test.skip;
const HOUR = 3600;

async function setUp(t: ExecutionContext, env: Record<string, string> = {}, clock?: TestClock) {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-env-events-'));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const server = await startEnvironmentServer(
    { ENVIRONMENT_IDLE_MINUTES: '1000000', ...(await environmentStorage(t)), ...env },
    { driver, ...(clock ? { clock } : {}) },
  );
  t.teardown(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return server;
}

const requestId = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

async function send(server: TestServer, token: string, method: string, path: string, id: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'x-request-id': id,
      'idempotency-key': randomUUID(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const eventsAbout = async (server: TestServer, type: string, environmentId: string) =>
  (await outboxEvents(server.app.services.db, type)).filter((event) => event.subject.id === environmentId);

const rowOf = (server: TestServer, id: string) =>
  server.app.services.db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

rootTest(
  'environment.created, stopped, started and deleted commit with the change a person asked for, or neither is kept',
  async (t) => {
    const server = await setUp(t);
    const { db } = server.app.services;
    const email = 'env-events@example.com';
    const token = await apiToken(server, email, ENVIRONMENT_SCOPES);
    const accountId = (await accountByEmail(server, email)).id;
    const create = (name: string, id: string) =>
      send(server, token, 'POST', '/api/environments', id, { name, template: 'test-box' });

    await refuseEvent(t, db, 'environment.created', 'environment:%', `r.payload->'data'->>'name' = 'Refused box'`);
    t.is((await create('Refused box', requestId('refused'))).status, 500);
    t.deepEqual(await db.selectFrom('environments').select('id').where('name', '=', 'Refused box').execute(), []);
    t.deepEqual(
      (await outboxEvents(db, 'environment.created')).filter((event) => event.data.name === 'Refused box'),
      [],
    );

    const createdBy = requestId('create');
    const created = await create('Event box', createdBy);
    t.is(created.status, 201, JSON.stringify(created.body));
    const id = created.body!.id as string;
    const [createdEvent, ...more] = await eventsAbout(server, 'environment.created', id);
    t.is(more.length, 0);
    t.like(createdEvent, {
      actor: { type: 'account', id: accountId },
      request_id: createdBy,
      organization_id: null,
      data: { environment_id: id, name: 'Event box' },
    });

    // Each transition: refused once at commit (state and event both stay as they were), then let through.
    const transitions = [
      {
        verb: 'stop',
        method: 'POST',
        path: `/api/environments/${id}/stop`,
        type: 'environment.stopped',
        to: 'stopping',
      },
      {
        verb: 'start',
        method: 'POST',
        path: `/api/environments/${id}/start`,
        type: 'environment.started',
        to: 'starting',
      },
      {
        verb: 'delete',
        method: 'DELETE',
        path: `/api/environments/${id}`,
        type: 'environment.deleted',
        to: 'deleting',
      },
    ];
    for (const transition of transitions) {
      if (transition.verb === 'start') await waitForState(server, token, id, 'stopped');
      const before = await rowOf(server, id);
      const allow = await refuseEvent(t, db, transition.type, `environment:${id}`);
      t.is((await send(server, token, transition.method, transition.path, requestId('refused'))).status, 500);
      const after = await rowOf(server, id);
      t.not(after.state, transition.to, `${transition.verb}: the state did not move`);
      t.is(after.desired_state, before.desired_state, `${transition.verb}: nor did the wish`);
      t.deepEqual(await eventsAbout(server, transition.type, id), [], `${transition.verb}: no event`);
      await allow();
      const asked = requestId(transition.verb);
      t.is((await send(server, token, transition.method, transition.path, asked)).status, 202);
      const events = await eventsAbout(server, transition.type, id);
      t.is(events.length, 1, `${transition.verb}: exactly one event`);
      t.like(events[0], { actor: { type: 'account', id: accountId }, request_id: asked });
      if (transition.type === 'environment.stopped') t.is(events[0]?.data.reason, 'requested');
    }
    await until(async () => (await rowOf(server, id)).state === 'deleted', 'the machine to be deleted', 120_000);
  },
);

rootTest(
  'the reconciler’s stop for want of DUST commits with environment.stopped, and its rows carry the pass’s id',
  async (t) => {
    const clock = testClock();
    // 25 DUST at sign-up: the first hour (20) is paid, the second is not.
    const server = await setUp(t, { ENVIRONMENT_PRICES: 'free:20,starter:20,pro:20' }, clock);
    const { db } = server.app.services;
    const reconciler = server.app.environments.reconciler;
    const email = 'dry-wallet@example.com';
    const token = await apiToken(server, email, ENVIRONMENT_SCOPES);
    const accountId = (await accountByEmail(server, email)).id;
    const created = await send(server, token, 'POST', '/api/environments', requestId('create'), {
      name: 'Thirsty box',
      template: 'test-box',
    });
    t.is(created.status, 201, JSON.stringify(created.body));
    const id = created.body!.id as string;
    await waitForState(server, token, id, 'running');
    await until(async () => {
      await reconciler.tick();
      return (await callApi(server, token, 'GET', `/api/environments/${id}`)).body!.balance === 5;
    }, 'the first hour to be paid');

    const stopAudits = async () =>
      (await server.app.services.audit.recentFor(accountId, 100)).filter(
        (row) =>
          row.event === 'environment_state_changed' &&
          (row.detail as Record<string, unknown> | null)?.to === 'stopping',
      );
    const allow = await refuseEvent(t, db, 'environment.stopped', `environment:${id}`);
    clock.advance(HOUR);
    await reconciler.tick();
    const refused = await rowOf(server, id);
    t.is(refused.state, 'running', 'the stop was rolled back with its event');
    t.is(refused.stop_reason, null);
    t.deepEqual(await eventsAbout(server, 'environment.stopped', id), []);
    t.deepEqual(await stopAudits(), []);

    await allow();
    // Past the retry's backoff, still within hour two.
    clock.advance(600);
    await reconciler.tick();
    t.is((await rowOf(server, id)).stop_reason, 'insufficient_funds');
    const events = await eventsAbout(server, 'environment.stopped', id);
    t.is(events.length, 1);
    t.like(events[0], { actor: { type: 'system' }, data: { environment_id: id, reason: 'insufficient_dust' } });
    t.regex(events[0]?.request_id ?? '', /^reconcile-[0-9a-f-]{36}$/);
    const [audited] = await stopAudits();
    t.is(audited?.request_id, events[0]?.request_id, 'the audit row and the event name the same pass');
    await waitForState(server, token, id, 'stopped');
  },
);
