import test from 'ava';
import { createDigitalOceanDriver } from '../../src/environments/digitalocean.driver.ts';
import { accountByEmail } from '../helpers/account-pages.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { testClock } from '../helpers/clock.ts';
import { startDigitalOceanStandIn } from '../helpers/digitalocean-stand-in.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  startEnvironmentServer,
  waitForState,
} from '../helpers/environments.ts';
import { outboxEvents } from '../helpers/events.ts';
import { until } from '../helpers/machines.ts';

// The stand-in's machines are local sshd processes on their own loopback address: root only.
const rootTest = process.getuid?.() === 0 ? test : test.skip;
const OPERATOR = { accountId: undefined };
const PIXIE = 'pixie@example.com';

rootTest(
  'suspending an account stops its own environments as an empty wallet does, and reactivating does not restart them',
  async (t) => {
    const standIn = await startDigitalOceanStandIn(t, { addressBlock: 0, firstHost: 32, lastHost: 33 });
    const storage = await environmentStorage(t);
    const clock = testClock();
    const server = await startEnvironmentServer(
      { ...storage, ENVIRONMENT_IDLE_MINUTES: '1000000' },
      { driver: createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 }), clock },
    );
    t.teardown(() => server.stop());
    const token = await apiToken(server, PIXIE, ENVIRONMENT_SCOPES);
    const created = await createEnvironment(server, token, { name: 'Sprite', template: 'test-box' });
    const id = created.body.id as string;
    await waitForState(server, token, id, 'running');
    const { id: accountId } = await accountByEmail(server, PIXIE);
    const { db } = server.app.services;
    const environment = () => db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const usage = async () =>
      (
        await db
          .selectFrom('ledger_transactions')
          .select('id')
          .where('kind', '=', 'environment_usage')
          .where('reference', 'like', `environment:${id}:%`)
          .execute()
      ).length;

    await server.app.services.accountStatus.suspend(OPERATOR, accountId, 'Mining on the free tier');
    // The machine goes, its volume stays: the reconciler takes the stop from there, as for lack of DUST.
    const stopped = await until(async () => {
      const row = await environment();
      return row.state === 'stopped' ? row : undefined;
    }, 'the environment to stop');
    t.is(stopped.stop_reason, 'account_suspended');
    t.is(stopped.desired_state, 'stopped');
    t.deepEqual(standIn.leftovers().droplets, []);
    t.is(standIn.leftovers().volumes.length, 1);
    const trail = await db
      .selectFrom('environment_events')
      .select(['kind', 'message', 'actor_id'])
      .where('environment_id', '=', id)
      .where('kind', '=', 'stop_requested')
      .execute();
    t.deepEqual(trail, [{ kind: 'stop_requested', message: 'Stopped: the account was suspended', actor_id: null }]);
    const audited = await db
      .selectFrom('audit_events')
      .select(['event', 'detail'])
      .where('account_id', '=', accountId)
      .where('event', 'in', ['account_suspended', 'environment_state_changed'])
      .execute();
    const details = (event: string) =>
      audited
        .filter((row) => row.event === event)
        .map(
          (row) => (typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail) as Record<string, unknown>,
        );
    t.like(details('account_suspended')[0], { environments: 1 });
    t.true(
      details('environment_state_changed').some(
        (detail) => detail.to === 'stopping' && detail.stop_reason === 'account_suspended',
      ),
    );
    const published = (await outboxEvents(db, 'environment.stopped')).filter((event) => event.subject.id === id);
    t.is(published.length, 1);
    t.like(published[0], { actor: { type: 'system' }, data: { reason: 'account_suspended' } });

    // Hours go by: a stopped environment books no more DUST.
    const booked = await usage();
    clock.advance(3 * 3600);
    await server.app.environments.reconciler.tick();
    t.is(await usage(), booked);

    await server.app.services.accountStatus.reactivate(OPERATOR, accountId);
    clock.advance(60);
    await server.app.environments.reconciler.tick();
    t.like(await environment(), { state: 'stopped', desired_state: 'stopped' });
    t.deepEqual(standIn.leftovers().droplets, []);
    // The person, signed in again, finds it stopped and starts it when they choose.
    const again = await apiToken(server, PIXIE, ENVIRONMENT_SCOPES);
    t.is((await callApi(server, again, 'GET', `/api/environments/${id}`)).body!.state, 'stopped');
  },
);
