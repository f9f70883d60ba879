import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  sshRun,
  startEnvironmentServer,
  waitForState,
} from '../helpers/environments.ts';

// As root each machine gets its own Linux user and /home mount; the SSH user is the template's.
const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test : test.skip;

rootTest(
  'a local environment is created, ready only after phone_home, stopped and started with its files, then deleted',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-local-env-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
    const server = await startEnvironmentServer(await environmentStorage(t), { driver });
    t.teardown(() => server.stop());
    const token = await apiToken(server, 'dev@example.com', ENVIRONMENT_SCOPES);

    const templates = await callApi(server, token, 'GET', '/api/environment-templates');
    t.deepEqual(
      templates.body!.data.map((template: { id: string }) => template.id),
      ['test-box'],
    );

    const created = await createEnvironment(server, token, { name: 'My box', template: 'test-box' });
    t.is(created.status, 201, JSON.stringify(created.body));
    t.is(created.body.state, 'provisioning');
    t.is(created.body.tier, 'free');
    t.is(created.body.ssh, null);
    const id = created.body.id as string;

    const running = await waitForState(server, token, id, 'running');
    const events = (await callApi(server, token, 'GET', `/api/environments/${id}/events`)).body!.data as {
      kind: string;
      detail: Record<string, unknown>;
    }[];
    const ready = events.find((event) => event.kind === 'ready');
    t.is(ready?.detail.via, 'phone_home', 'running is reached through phone_home');
    t.true(typeof ready?.detail.total_ms === 'number');
    t.is(running.price_per_hour, 1);
    // The reconciler books the first started hour on its next visit after the machine is ready.
    let paid = running;
    for (let i = 0; i < 100 && paid.cost_since_start === 0; i++) {
      await server.app.environments.reconciler.tick();
      paid = (await callApi(server, token, 'GET', `/api/environments/${id}`)).body!;
    }
    t.is(paid.cost_since_start, 1, 'the first started hour is booked once it is ready');
    t.is(paid.balance, 24);

    const stored = (await server.app.environments.service.get(running.owner.id, id))!;
    const privateKey = server.app.environments.keySeal.open(id, 'client', stored.client_private_key_sealed);
    const ssh = { ...running.ssh, username: running.ssh.user, privateKey, hostPublicKey: running.host_public_key };
    t.is(await sshRun({ ...ssh, command: 'cat ~/hello.txt' }), 'hello from the template\n');
    await sshRun({ ...ssh, command: 'echo kept > ~/mine.txt' });

    const stopping = await callApi(server, token, 'POST', `/api/environments/${id}/stop`);
    t.is(stopping.status, 202);
    const stopped = await waitForState(server, token, id, 'stopped');
    t.is(stopped.ssh, null);
    t.is(stopped.balance_lasts_hours, null, 'nothing runs, nothing is spent');

    t.is((await callApi(server, token, 'POST', `/api/environments/${id}/start`)).status, 202);
    const again = await waitForState(server, token, id, 'running');
    t.is(again.host_public_key, running.host_public_key, 'the same host key across stop and start');
    const ssh2 = { ...again.ssh, username: again.ssh.user, privateKey, hostPublicKey: again.host_public_key };
    t.is(await sshRun({ ...ssh2, command: 'cat ~/mine.txt' }), 'kept\n', 'files survive stop and start');

    t.is((await callApi(server, token, 'DELETE', `/api/environments/${id}`)).status, 202);
    await waitForDeleted(server, token, id);
    const volume = join(dataDir, 'environments', `fairyid-${id}`);
    await t.throwsAsync(stat(volume), undefined, 'the volume is gone');
    t.deepEqual(
      (await server.app.services.ledger.verify()).unbalancedTransactions,
      [],
      'the ledger balances afterwards',
    );
  },
);

async function waitForDeleted(server: Parameters<typeof callApi>[0], token: string, id: string) {
  for (let i = 0; i < 600; i++) {
    const response = await callApi(server, token, 'GET', `/api/environments/${id}`);
    if (response.status === 404) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('never deleted');
}

rootTest(
  'with nothing configured the local driver runs environments under DATA_DIR and notes what it cannot apply',
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-default-driver-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    // No driver override: ENVIRONMENT_DRIVER's default (local) under DATA_DIR, as `npm start` gets it.
    const storage = await environmentStorage(t, { persisted: true });
    const server = await startEnvironmentServer({ DATA_DIR: dataDir, ...storage });
    t.teardown(() => server.stop());
    t.is(server.app.environments.driver?.name, 'local');
    const token = await apiToken(server, 'laptop@example.com', ENVIRONMENT_SCOPES);
    const created = await createEnvironment(server, token, { name: 'Default', template: 'test-box' });
    const id = created.body.id as string;
    const running = await waitForState(server, token, id, 'running');
    await stat(join(storage.DATA_DIR ?? dataDir, 'environments', `fairyid-${id}`));
    const row = await server.app.services.db
      .selectFrom('environments')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const privateKey = server.app.environments.keySeal.open(id, 'client', row.client_private_key_sealed);
    const output = await sshRun({
      host: running.ssh.host,
      port: running.ssh.port,
      username: running.ssh.user,
      privateKey,
      hostPublicKey: running.host_public_key,
      command: 'cat ~/runcmd.txt',
    });
    t.is(output, 'ran\n', 'runcmd ran as the machine user');
    let notes: string[] = [];
    for (let i = 0; i < 100 && !notes.length; i++) {
      const trail = await callApi(server, token, 'GET', `/api/environments/${id}/events?limit=100`);
      notes = (trail.body!.data as { kind: string; message: string }[])
        .filter((event) => event.kind === 'machine_note')
        .map((event) => event.message);
      if (!notes.length) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.true(
      notes.some((note) => /sudo/.test(note)),
      `the trail says what a local machine does not apply: ${notes.join('; ')}`,
    );
    t.is((await callApi(server, token, 'DELETE', `/api/environments/${id}`)).status, 202);
    await waitForDeleted(server, token, id);
  },
);
