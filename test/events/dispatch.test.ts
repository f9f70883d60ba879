import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startReceiver } from '../helpers/events.ts';
import { startServerProcess } from '../helpers/server-process.ts';
import { startServer, testRedisEnv, twoInstances, type TestServer } from '../helpers/server.ts';

// Several instances share one outbox only on a shared database, and killing a process mid-write is a
// claim about Postgres' durability: both run where CI runs them, on real Postgres.
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

const SCOPES = ['organizations:read', 'organizations:write'];
const EVENTS = 40;

async function organizationWithEndpoint(server: TestServer, owner: string, url: string) {
  const orgId = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Dispatch', slug: 'dispatch' }))
    .body?.id as string;
  const hook = await callApi(server, owner, 'POST', `/api/organizations/${orgId}/webhooks`, {
    url,
    event_types: ['invitation.sent'],
  });
  if (hook.status !== 201) throw new Error(`registering the webhook answered ${hook.status}`);
  return { orgId, endpointId: hook.body?.id as string };
}

const invite = (server: TestServer, owner: string, orgId: string, n: number) =>
  callApi(server, owner, 'POST', `/api/organizations/${orgId}/invitations`, {
    email: `person-${n}@example.com`,
    role: 'member',
  });

onPostgres('two instances dispatching one outbox deliver every event to a healthy receiver exactly once', async (t) => {
  const receiver = await startReceiver(t);
  // Both dispatchers poll often, so they keep meeting over the same rows.
  const { a, b } = await twoInstances(t, { WEBHOOK_PRIVATE_NETWORKS: 'true', EVENTS_POLL_MS: '20' });
  const owner = await apiToken(a, 'two@example.com', SCOPES);
  const { orgId } = await organizationWithEndpoint(a, owner, receiver.url);
  const answers = await Promise.all(Array.from({ length: EVENTS }, (_, n) => invite(n % 2 ? a : b, owner, orgId, n)));
  t.true(answers.every((answer) => answer.status === 201));
  await receiver.next(EVENTS);
  // Each instance finishes a full pass of its own: whatever either still had in hand is done.
  await a.app.services.eventDispatcher.tick();
  await b.app.services.eventDispatcher.tick();
  const ids = receiver.received.map((entry) => entry.headers['webhook-id']);
  t.is(ids.length, EVENTS, 'none twice');
  t.is(new Set(ids).size, EVENTS, 'none lost');
  const outbox = await a.app.services.db
    .selectFrom('event_outbox')
    .select('event_id')
    .where('type', '=', 'invitation.sent')
    .execute();
  t.deepEqual([...new Set(ids)].sort(), outbox.map((row) => row.event_id).sort());
});

onPostgres(
  'a server killed in the middle of a delivery resumes it after a restart, with the same event ids',
  async (t) => {
    const database = await createTestDatabase();
    t.teardown(() => database.drop());
    const env = { ...database.env, ...testRedisEnv(), WEBHOOK_PRIVATE_NETWORKS: 'true' };
    // The first request is held unanswered until the server handling it is dead; the rest are answered.
    let release: (status: number) => void = () => {};
    const held = new Promise<number>((resolve) => {
      release = resolve;
    });
    const receiver = await startReceiver(t, (n) => (n === 1 ? held : 204));

    const setup = await startServer({ ...env, EVENTS_POLL_MS: '60000' });
    const owner = await apiToken(setup, 'crash@example.com', SCOPES);
    const { orgId } = await organizationWithEndpoint(setup, owner, receiver.url);
    for (let n = 0; n < 5; n += 1) await invite(setup, owner, orgId, n);
    await setup.stop();

    const { child, exited } = await startServerProcess({ ...env, EVENTS_POLL_MS: '20' }, setup.url);
    await receiver.next(1);
    child.kill('SIGKILL');
    await exited;
    release(204);

    const after = await startServer({ ...env, EVENTS_POLL_MS: '60000' }, { port: Number(new URL(setup.url).port) });
    t.teardown(() => after.stop());
    // The dead instance's lease on the delivery it was making runs out; then anyone may take it.
    after.clock.advance(120);
    await after.app.services.eventDispatcher.tick();
    const ids = receiver.received.map((entry) => entry.headers['webhook-id']);
    const outbox = await after.app.services.db
      .selectFrom('event_outbox')
      .select('event_id')
      .where('type', '=', 'invitation.sent')
      .execute();
    t.is(outbox.length, 5);
    t.deepEqual([...new Set(ids)].sort(), outbox.map((row) => row.event_id).sort(), 'every event delivered, none lost');
    t.true(ids.length <= 6, 'only the interrupted delivery was sent twice');
    const pending = await after.app.services.db
      .selectFrom('webhook_deliveries')
      .select('status')
      .where('status', '<>', 'delivered')
      .execute();
    t.deepEqual(pending, []);
  },
);
