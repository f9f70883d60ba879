import { spawn } from 'node:child_process';
import test from 'ava';
import { createDigitalOceanDriver } from '../../src/environments/digitalocean.driver.ts';
import { testClock } from '../helpers/clock.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { startDigitalOceanStandIn } from '../helpers/digitalocean-stand-in.ts';
import {
  ENVIRONMENT_SCOPES,
  environmentStorage,
  sshRun,
  startEnvironmentServer,
  TEST_TEMPLATES,
  waitForState,
} from '../helpers/environments.ts';

const rootTest = process.getuid?.() === 0 ? test : test.skip;
const FIXTURE = new URL('fixtures/provisioning-server.ts', import.meta.url).pathname;

rootTest(
  'a server killed while provisioning: after a restart the reconciler finishes the job, with nothing doubled or orphaned',
  async (t) => {
    const standIn = await startDigitalOceanStandIn(t, { addressBlock: 76 });
    const storage = { ...(await environmentStorage(t, { persisted: true })), ENVIRONMENT_PHONE_HOME_GRACE: '1' };
    const driver = () => createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 });

    // A person signs up (and gets a token) on a first, orderly instance.
    const first = await startEnvironmentServer(storage, { driver: driver() });
    const port = Number(new URL(first.url).port);
    const token = await apiToken(first, 'crash@example.com', ENVIRONMENT_SCOPES);
    const { id: accountId } = await first.app.services.db
      .selectFrom('accounts')
      .select('id')
      .where('email', '=', 'crash@example.com')
      .executeTakeFirstOrThrow();
    await first.stop();

    // The same server in its own process asks DigitalOcean for the machine and is killed as soon as
    // the droplet exists: before phone_home, before the machine is recorded as up.
    const child = spawn(process.execPath, [FIXTURE, accountId], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        REDIS_URL: '',
        DATA_DIR: '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        ...storage,
        ISSUER: first.url,
        PORT: String(port),
        TEMPLATES_DIR: TEST_TEMPLATES,
        ENVIRONMENT_RECONCILE_MS: '50',
        ENVIRONMENT_DRIVER: 'digitalocean',
        DO_API_TOKEN: standIn.token,
        DO_API_URL: standIn.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => void child.kill('SIGKILL'));
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 1200 && standIn.droplets.size === 0; i++) {
      if (child.exitCode !== null) throw new Error(`the server process ended: ${errors}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.is(standIn.droplets.size, 1, 'the killed server had asked for the droplet');
    child.kill('SIGKILL');
    await exited;
    const { id } = JSON.parse(output.trim().split('\n')[0]!) as { id: string };

    // Restarted on the same storage and port. The dead instance's claim runs out (the clock moves
    // past its lease instead of the test waiting two minutes), and this one takes over.
    const clock = testClock();
    const second = await startEnvironmentServer(storage, { driver: driver(), clock }, { port });
    t.teardown(() => second.stop());
    const interrupted = (await callApi(second, token, 'GET', `/api/environments/${id}`)).body!;
    t.is(interrupted.state, 'provisioning');
    clock.advance(3 * 60);
    const running = await waitForState(second, token, id, 'running');
    t.is(standIn.droplets.size, 1, 'the droplet the dead server asked for is used, not doubled');
    t.is(standIn.volumes.size, 1);

    const row = await second.app.services.db
      .selectFrom('environments')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const privateKey = second.app.environments.keySeal.open(id, 'client', row.client_private_key_sealed);
    const hello = await sshRun({
      host: running.ssh.host,
      port: running.ssh.port,
      username: running.ssh.user,
      privateKey,
      hostPublicKey: running.host_public_key,
      command: 'cat ~/hello.txt',
    });
    t.is(hello, 'hello from the template\n');

    t.is((await callApi(second, token, 'DELETE', `/api/environments/${id}`)).status, 202);
    for (let i = 0; i < 600 && (await callApi(second, token, 'GET', `/api/environments/${id}`)).status !== 404; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] }, 'nothing orphaned');
  },
);
