import test from 'ava';
import { createDigitalOceanDriver } from '../../src/environments/digitalocean.driver.ts';
import { testClock } from '../helpers/clock.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { startDigitalOceanStandIn } from '../helpers/digitalocean-stand-in.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  startEnvironmentServer,
  waitForState,
  unworded,
} from '../helpers/environments.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import type { TestServer } from '../helpers/server.ts';

const rootTest = process.getuid?.() === 0 ? test : test.skip;
const HOUR = 3600;
// Idleness is its own test; here nobody is ever idle long enough to be stopped for it.
const NEVER_IDLE = { ENVIRONMENT_IDLE_MINUTES: '1000000', ENVIRONMENT_PRICES: 'free:4,starter:2,pro:8' };

const usage = async (server: TestServer, id: string) =>
  (
    await server.app.services.db
      .selectFrom('ledger_transactions')
      .select(['reference', 'amount'])
      .where('kind', '=', 'environment_usage')
      .where('reference', 'like', `environment:${id}:%`)
      .execute()
  ).map((row) => row.reference);

rootTest(
  'each started hour is booked exactly once across a restart and two instances; an empty wallet stops the environment',
  async (t) => {
    const standIn = await startDigitalOceanStandIn(t, { addressBlock: 74 });
    const driver = () => createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 });
    const storage = { ...(await environmentStorage(t, { persisted: true })), ...NEVER_IDLE };
    const clock = testClock();
    let first: TestServer | undefined = await startEnvironmentServer(storage, { driver: driver(), clock });
    t.teardown(async () => first?.stop());
    const token = await apiToken(first, 'meter@example.com', ENVIRONMENT_SCOPES);
    const created = await createEnvironment(first, token, { name: 'Metered', template: 'test-box' });
    const id = created.body.id as string;
    const running = await waitForState(first, token, id, 'running');
    // The first started hour is paid when the machine is ready.
    for (
      let i = 0;
      i < 100 && (await callApi(first, token, 'GET', `/api/environments/${id}`)).body!.balance !== 21;
      i++
    )
      await first.app.environments.reconciler.tick();
    const hourOne = (await callApi(first, token, 'GET', `/api/environments/${id}`)).body!;
    t.is(hourOne.cost_since_start, 4);
    t.is(hourOne.balance, 21);
    t.is(hourOne.balance_lasts_hours, 5);
    t.is(running.price_per_hour, 4);

    clock.advance(HOUR);
    await first.app.environments.reconciler.tick();
    t.is((await callApi(first, token, 'GET', `/api/environments/${id}`)).body!.balance, 17, 'hour two');

    // A restart in the middle of hour two books nothing more.
    const port = Number(new URL(first.url).port);
    await first.stop();
    first = undefined;
    const second = await startEnvironmentServer(storage, { driver: driver(), clock }, { port });
    t.teardown(() => second.stop());
    await second.app.environments.reconciler.tick();
    await second.app.environments.reconciler.tick();
    t.is(
      (await callApi(second, token, 'GET', `/api/environments/${id}`)).body!.balance,
      17,
      'nothing twice after a restart',
    );

    // Two instances on one database (Postgres): each hour once, whoever gets there first.
    const third = process.env.DATABASE_URL
      ? await startEnvironmentServer(storage, { driver: driver(), clock })
      : undefined;
    if (third) t.teardown(() => third.stop());
    const instances = [second, ...(third ? [third] : [])];
    const tickAll = () => Promise.all(instances.map((server) => server.app.environments.reconciler.tick()));
    for (const expected of [13, 9, 5, 1]) {
      clock.advance(HOUR);
      await tickAll();
      await tickAll();
      t.is((await callApi(second, token, 'GET', `/api/environments/${id}`)).body!.balance, expected);
    }
    const warned = (await outboxMessages(second.url)).find((message) => /less than an hour left/.test(message.subject));
    t.truthy(warned, 'the owner is warned before the wallet runs dry');
    t.regex(warned!.text, /holds 1 DUST/);
    const page = await callApi(second, token, 'GET', `/api/environments/${id}/events?limit=100`);
    t.true(page.body!.data.some((event: { kind: string }) => event.kind === 'low_balance'));

    clock.advance(HOUR);
    await tickAll();
    const stopped = await waitForState(second, token, id, 'stopped');
    t.is(stopped.stop_reason, 'insufficient_funds');
    t.is(stopped.balance, 1, 'nothing was booked for the hour it could not pay');
    const trail = (await callApi(second, token, 'GET', `/api/environments/${id}/events?limit=100`)).body!.data as {
      kind: string;
      message: string;
    }[];
    t.regex(trail.find((event) => event.kind === 'stop_requested')!.message, /could not pay hour 7/);
    t.truthy((await outboxMessages(second.url)).find((message) => /stopped: not enough DUST/.test(message.subject)));
    t.is(standIn.droplets.size, 0, 'stopped, so nothing is billed at the provider either');
    t.is(standIn.volumes.size, 1, 'and not deleted');

    const booked = await usage(second, id);
    t.is(booked.length, 6, 'six hours, each once');
    t.is(new Set(booked).size, 6);
    t.deepEqual(await second.app.services.ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
    t.deepEqual(await unworded(second, id), [], 'the low balance and the unpaid stop have a page’s words');
  },
);

rootTest('an idle environment is warned, can be kept running, and is stopped only after a warning', async (t) => {
  const standIn = await startDigitalOceanStandIn(t, { addressBlock: 75 });
  const driver = createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 });
  const clock = testClock();
  const server = await startEnvironmentServer(
    { ...(await environmentStorage(t)), ENVIRONMENT_IDLE_MINUTES: '60', ENVIRONMENT_IDLE_WARNING_MINUTES: '15' },
    { driver, clock },
  );
  t.teardown(() => server.stop());
  const token = await apiToken(server, 'idle@example.com', ENVIRONMENT_SCOPES);
  const created = await createEnvironment(server, token, { name: 'Sleepy', template: 'test-box' });
  const id = created.body.id as string;
  await waitForState(server, token, id, 'running');
  const tick = () => server.app.environments.reconciler.tick();
  const read = async () => (await callApi(server, token, 'GET', `/api/environments/${id}`)).body!;

  clock.advance(44 * 60);
  await tick();
  t.false((await read()).idle_stop_warning, 'no warning before 45 minutes without activity');
  clock.advance(2 * 60);
  await tick();
  t.true((await read()).idle_stop_warning);
  t.truthy((await outboxMessages(server.url)).find((message) => /will stop soon/.test(message.subject)));

  const kept = await callApi(server, token, 'POST', `/api/environments/${id}/keep-running`);
  t.is(kept.status, 202);
  t.false(kept.body!.idle_stop_warning);
  clock.advance(30 * 60);
  await tick();
  t.is((await read()).state, 'running', 'kept running: the clock starts again from the click');

  clock.advance(16 * 60);
  await tick();
  t.true((await read()).idle_stop_warning, 'warned again after another 45 idle minutes');
  clock.advance(14 * 60);
  await tick();
  t.is((await read()).state, 'running', 'never stopped before the warning period is over');
  clock.advance(2 * 60);
  await tick();
  const stopped = await waitForState(server, token, id, 'stopped');
  t.is(stopped.stop_reason, 'idle');
  t.truthy((await outboxMessages(server.url)).find((message) => /stopped after being idle/.test(message.subject)));
  t.deepEqual(await unworded(server, id), [], 'the idle warning and stop have a page’s words');
});
