import test, { type ExecutionContext } from 'ava';
import { createDigitalOceanDriver } from '../../src/environments/digitalocean.driver.ts';
import { sshKeyPair } from '../../src/environments/machine-keys.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { startDigitalOceanStandIn } from '../helpers/digitalocean-stand-in.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  sshRun,
  startEnvironmentServer,
  waitForState,
  unworded,
} from '../helpers/environments.ts';
import { joinByInvitation, organizationToken } from '../helpers/organizations.ts';
import type { TestServer } from '../helpers/server.ts';

// The stand-in's droplets are sshd processes on 127.0.<block>.N:22, which needs root.
const rootTest = process.getuid?.() === 0 ? test : test.skip;

async function setUp(t: ExecutionContext, addressBlock: number, env: Record<string, string> = {}) {
  const standIn = await startDigitalOceanStandIn(t, { addressBlock });
  const driver = createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 });
  const server = await startEnvironmentServer({ ...(await environmentStorage(t)), ...env }, { driver });
  t.teardown(() => server.stop());
  return { standIn, server };
}

/** The reconciler books the first started hour on its next visit after the machine is ready. */
async function firstHourPaid(server: TestServer, token: string, id: string) {
  for (let i = 0; i < 100; i++) {
    const env = (await callApi(server, token, 'GET', `/api/environments/${id}`)).body!;
    if (env.cost_since_start > 0) return env;
    await server.app.environments.reconciler.tick();
  }
  throw new Error('the first hour was never booked');
}

type Events = { kind: string; message: string | null; actor_id: string | null; detail: Record<string, unknown> }[];
const eventsOf = async (server: TestServer, token: string, id: string) =>
  (await callApi(server, token, 'GET', `/api/environments/${id}/events?limit=100`)).body!.data as Events;

/** create -> running (after phone_home) -> stop (droplet gone, volume kept) -> start (same volume, host key, files) -> delete. */
async function lifecycle(
  t: ExecutionContext,
  { standIn, server }: Awaited<ReturnType<typeof setUp>>,
  token: string,
  body: Record<string, unknown>,
) {
  const created = await createEnvironment(server, token, body);
  t.is(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  await waitForState(server, token, id, 'running');
  const running = await firstHourPaid(server, token, id);
  t.is(running.cost_since_start, 1);
  const trail = await eventsOf(server, token, id);
  t.deepEqual(
    trail.map((event) => event.kind).filter((kind) => kind !== 'retry'),
    ['requested', 'machine_requested', 'machine_created', 'ready'],
  );
  t.is(trail.find((event) => event.kind === 'ready')!.detail.via, 'phone_home');
  t.is(standIn.droplets.size, 1);
  const [droplet] = [...standIn.droplets.values()];
  const volumeIds = [...droplet!.volume_ids];
  t.is(volumeIds.length, 1, 'a volume is attached for /home');
  t.true(droplet!.tags.includes(`fairyid-env-${id}`), 'the droplet is tagged with the environment');
  t.is(running.ssh.port, 22);
  t.is(running.ssh.host, droplet!.networks.v4[0]!.ip_address);

  const row = await server.app.services.db
    .selectFrom('environments')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const privateKey = server.app.environments.keySeal.open(id, 'client', row.client_private_key_sealed);
  t.notRegex(row.client_private_key_sealed, /PRIVATE KEY/, 'sealed at rest');
  t.notRegex(row.host_private_key_sealed, /PRIVATE KEY/, 'sealed at rest');
  const ssh = (env: Record<string, any>) => ({
    host: env.ssh.host,
    port: env.ssh.port,
    username: env.ssh.user,
    privateKey,
    hostPublicKey: env.host_public_key,
  });
  t.is(await sshRun({ ...ssh(running), command: 'cat ~/hello.txt' }), 'hello from the template\n');
  await sshRun({ ...ssh(running), command: 'echo written-before-stop > ~/notes.txt' });
  await t.throwsAsync(
    sshRun({ ...ssh(running), command: 'true', hostPublicKey: sshKeyPair('another-host').publicKey }),
    { message: /Host denied \(verification failed\)/ },
    'another host key is refused',
  );

  t.is((await callApi(server, token, 'POST', `/api/environments/${id}/stop`)).status, 202);
  await waitForState(server, token, id, 'stopped');
  t.is(standIn.droplets.size, 0, 'a stopped environment has no droplet (it would be billed)');
  t.is(standIn.volumes.size, 1, 'the volume is kept');

  t.is((await callApi(server, token, 'POST', `/api/environments/${id}/start`)).status, 202);
  await waitForState(server, token, id, 'running');
  const again = await firstHourPaid(server, token, id);
  const [second] = [...standIn.droplets.values()];
  t.not(second!.id, droplet!.id, 'a new droplet');
  t.deepEqual(second!.volume_ids, volumeIds, 'with the same volume');
  t.is(again.host_public_key, running.host_public_key);
  t.is(await sshRun({ ...ssh(again), command: 'cat ~/notes.txt' }), 'written-before-stop\n');

  t.is((await callApi(server, token, 'DELETE', `/api/environments/${id}`)).status, 202);
  for (let i = 0; i < 600 && (await callApi(server, token, 'GET', `/api/environments/${id}`)).status !== 404; i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  t.deepEqual(
    standIn.leftovers(),
    { droplets: [], volumes: [], keys: [], machines: [] },
    'nothing left at the provider',
  );
  t.deepEqual(await server.app.services.ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
  return { id, trail };
}

rootTest('a person’s environment on DigitalOcean, through rate limits and 5xx blips', async (t) => {
  const setup = await setUp(t, 71);
  const token = await apiToken(setup.server, 'person@example.com', ENVIRONMENT_SCOPES);
  // The first calls are refused: a 429 with ratelimit-reset, then a 503; the reconciler waits and retries.
  setup.standIn.rateLimit(1, Math.ceil(Date.now() / 1000) + 1);
  setup.standIn.fail(1, 503);
  const { id } = await lifecycle(t, setup, token, { name: 'Laptop in the cloud', template: 'test-box' });
  const retries = (await setup.server.app.services.db
    .selectFrom('environment_events')
    .select('message')
    .where('environment_id', '=', id)
    .where('kind', '=', 'retry')
    .execute()) as { message: string }[];
  t.true(retries.length >= 1, 'the provider refusals show in the trail');
  t.deepEqual(await unworded(setup.server, id), [], 'every step and retry has a page’s words');
});

rootTest('an organization’s environment on DigitalOcean, paid from its wallet', async (t) => {
  const setup = await setUp(t, 72);
  const { server } = setup;
  const token = await apiToken(server, 'team@example.com', [
    ...ENVIRONMENT_SCOPES,
    'organizations:read',
    'organizations:write',
  ]);
  const org = await callApi(server, token, 'POST', '/api/organizations', { name: 'Team', slug: 'team-cloud' });
  const transfer = await fetch(`${server.url}/api/dust/transfers`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': crypto.randomUUID(),
    },
    body: JSON.stringify({ organization_id: org.body!.id, direction: 'to_organization', amount: 20 }),
  });
  t.is(transfer.status, 201);
  await lifecycle(t, setup, token, { name: 'Team box', template: 'test-box', organization_id: org.body!.id });
  t.is(await server.app.services.ledger.balance('organization', org.body!.id), 18, 'two runs, one hour each');
  t.is(
    await server.app.services.ledger.balance(
      'person',
      (await server.app.services.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id,
    ),
    5,
  );
});

rootTest(
  'an organization’s environment through an admin’s organization-scoped token, paid from its wallet',
  async (t) => {
    const setup = await setUp(t, 77);
    const { server } = setup;
    const ownerToken = await apiToken(server, 'owner@example.com', [
      ...ENVIRONMENT_SCOPES,
      'organizations:read',
      'organizations:write',
    ]);
    const org = (
      await callApi(server, ownerToken, 'POST', '/api/organizations', { name: 'Acorn', slug: 'acorn-cloud' })
    ).body!;
    const transfer = await fetch(`${server.url}/api/dust/transfers`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ownerToken}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify({ organization_id: org.id, direction: 'to_organization', amount: 20 }),
    });
    t.is(transfer.status, 201);
    const admin = await joinByInvitation(server, ownerToken, org.id, 'admin@example.com', 'admin');
    // The app names no organization: the token acts for the one the admin picked on the consent page.
    const token = await organizationToken(server, 'admin@example.com', 'Acorn', ENVIRONMENT_SCOPES);

    const { id, trail } = await lifecycle(t, setup, token, { name: 'Acorn box', template: 'test-box' });
    const requested = trail.find((event) => event.kind === 'requested');
    t.is(requested?.actor_id, admin.accountId, 'the admin created it');
    const row = await server.app.services.db
      .selectFrom('environments')
      .select(['organization_id', 'account_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    t.deepEqual(row, { organization_id: org.id, account_id: null }, 'owned by the organization');
    t.is(await server.app.services.ledger.balance('organization', org.id), 18, 'two runs, one hour each');
    t.is(await server.app.services.ledger.balance('person', admin.accountId), 25, 'the admin paid nothing');
  },
);

rootTest(
  'a region the provider refuses (422) puts the environment in error with the reason, and delete cleans up',
  async (t) => {
    // Offered by this server's configuration, unknown to the provider.
    const { standIn, server } = await setUp(t, 73, { ENVIRONMENT_REGIONS: 'ams3,zzz9' });
    const token = await apiToken(server, 'odd@example.com', ENVIRONMENT_SCOPES);
    const created = await createEnvironment(server, token, { name: 'Odd', template: 'test-box', region: 'zzz9' });
    t.is(created.status, 201);
    const failed = await waitForState(server, token, created.body.id, 'error');
    t.truthy(failed.last_error);
    t.deepEqual(await unworded(server, created.body.id), [], 'the refusal has a page’s words');
    t.is(failed.cost_since_start, 0, 'nothing is charged for a machine that never ran');
    t.is((await callApi(server, token, 'DELETE', `/api/environments/${created.body.id}`)).status, 202);
    for (
      let i = 0;
      i < 300 && (await callApi(server, token, 'GET', `/api/environments/${created.body.id}`)).status !== 404;
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 100));
    t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
  },
);
