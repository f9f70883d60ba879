import test, { type ExecutionContext } from 'ava';
import { createDigitalOceanDriver } from '../../src/environments/digitalocean.driver.ts';
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
import { until } from '../helpers/machines.ts';
import type { TestServer } from '../helpers/server.ts';

// The stand-in's droplets are sshd processes on 127.0.<block>.N:22, which needs root.
const rootTest = process.getuid?.() === 0 ? test : test.skip;

// The defaults, spelled out: the test moves the server's clock past them.
const GRACE_SECONDS = 120;
const READY_TIMEOUT_SECONDS = 900;

async function setUp(t: ExecutionContext, addressBlock: number) {
  const standIn = await startDigitalOceanStandIn(t, { addressBlock });
  const driver = createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 });
  const server = await startEnvironmentServer(
    {
      ...(await environmentStorage(t)),
      ENVIRONMENT_PHONE_HOME_GRACE: String(GRACE_SECONDS),
      ENVIRONMENT_READY_TIMEOUT: String(READY_TIMEOUT_SECONDS),
    },
    { driver },
  );
  t.teardown(() => server.stop());
  const token = await apiToken(server, 'waiting@example.com', ENVIRONMENT_SCOPES);
  return { standIn, server, token };
}

type Event = { kind: string; message: string | null; detail: Record<string, unknown> };
const eventsOf = async (server: TestServer, token: string, id: string) =>
  (await callApi(server, token, 'GET', `/api/environments/${id}/events?limit=100`)).body!.data as Event[];

/** The reconciler has seen the droplet up and now waits for phone_home. */
async function machineUp(server: TestServer, token: string, id: string) {
  await until(
    async () => (await eventsOf(server, token, id)).some((event) => event.kind === 'machine_created') || undefined,
    'the machine_created event',
  );
  // One more pass: the visit that recorded the machine has released its claim with the grace's delay.
  await server.app.environments.reconciler.tick();
}

rootTest(
  'with no phone_home the environment becomes running through the SSH probe once the grace has passed',
  async (t) => {
    const { standIn, server, token } = await setUp(t, 78);
    standIn.blockPhoneHome();
    const created = await createEnvironment(server, token, { name: 'Quiet box', template: 'test-box' });
    t.is(created.status, 201);
    const id = created.body.id as string;
    await machineUp(server, token, id);
    await server.app.environments.reconciler.tick();
    t.is(
      (await callApi(server, token, 'GET', `/api/environments/${id}`)).body!.state,
      'provisioning',
      'a machine that is only powered on is not running',
    );

    server.clock.advance(GRACE_SECONDS + 1);
    const running = await waitForState(server, token, id, 'running');
    const ready = (await eventsOf(server, token, id)).find((event) => event.kind === 'ready');
    t.is(ready?.detail.via, 'ssh_probe');
    t.regex(ready?.message ?? '', /pinned host key/);
    t.true(Number(ready?.detail.total_ms) >= GRACE_SECONDS * 1000, 'the timings count the grace');
    t.is(running.ssh.host, [...standIn.droplets.values()][0]?.networks.v4[0]?.ip_address);
  },
);

rootTest(
  'a machine never ready within ENVIRONMENT_READY_TIMEOUT goes to error with the reason, its droplet removed and volume kept',
  async (t) => {
    const { standIn, server, token } = await setUp(t, 79);
    standIn.blockPhoneHome();
    standIn.bootUnreachable();
    const created = await createEnvironment(server, token, { name: 'Broken box', template: 'test-box' });
    const id = created.body.id as string;
    await machineUp(server, token, id);
    // Past the grace: the SSH probe finds nothing answering, and the environment keeps waiting.
    server.clock.advance(GRACE_SECONDS + 1);
    await server.app.environments.reconciler.tick();
    t.is((await callApi(server, token, 'GET', `/api/environments/${id}`)).body!.state, 'provisioning');
    t.is(standIn.droplets.size, 1);

    server.clock.advance(READY_TIMEOUT_SECONDS);
    const failed = await waitForState(server, token, id, 'error');
    t.is(failed.last_error, 'The machine did not become ready within 15 minutes.');
    t.is(failed.ssh, null);
    t.is(failed.cost_since_start, 0, 'a machine that never ran costs nothing');
    const error = (await eventsOf(server, token, id)).find((event) => event.kind === 'error');
    t.is(error?.message, failed.last_error);
    t.deepEqual(await unworded(server, id), [], 'the timeout has a page’s words');
    t.false(
      (await eventsOf(server, token, id)).some((event) => event.kind === 'ready'),
      'it was never ready',
    );
    t.is(standIn.droplets.size, 0, 'no droplet is left running (and billed) at the provider');
    t.is(standIn.volumes.size, 1, 'the volume is kept for a later start');

    t.is((await callApi(server, token, 'DELETE', `/api/environments/${id}`)).status, 202);
    await until(
      async () => (await callApi(server, token, 'GET', `/api/environments/${id}`)).status === 404 || undefined,
      'the deletion',
    );
    t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
  },
);
