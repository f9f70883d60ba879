import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { type MachineSpec, ProviderError, type ProviderIds } from '../../../src/environments/driver.ts';
import { sshBanner } from '../../../src/environments/local-machine.ts';
import { createLocalDriver } from '../../../src/environments/local.driver.ts';
import { machineCloudConfig, newKeyPair, sshExec, startPhoneHomeReceiver, until } from '../../helpers/machines.ts';

// As root each machine gets the cloud-config's own Linux user; otherwise it serves the current user.
const asRoot = process.getuid?.() === 0;

async function setup(t: ExecutionContext, driverOptions: { sshd?: string } = {}, failPhoneHomes = 0) {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-local-driver-'));
  const phoneHome = await startPhoneHomeReceiver(t, { failFirst: failPhoneHomes });
  const warnings: string[][] = [];
  const driver = createLocalDriver({
    dataDir,
    phoneHomeIntervalMs: 100,
    onWarnings: (_id, list) => warnings.push([...list]),
    ...driverOptions,
  });
  t.teardown(async () => {
    await driver.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const environmentId = randomUUID();
  const client = newKeyPair(`fairyid-${environmentId}`);
  const host = newKeyPair(`host-${environmentId}`);
  const volumeName = `fairyid-home-${environmentId.slice(0, 8)}`;
  const spec: MachineSpec = {
    environmentId,
    hostname: `env-${environmentId.slice(0, 8)}`,
    size: 's-1vcpu-512mb-10gb',
    region: 'local',
    image: 'debian-12-x64',
    userData: machineCloudConfig({
      client,
      host,
      volumeName,
      phoneHomeUrl: `${phoneHome.url}/phone-home/${environmentId}`,
      files: [{ path: '/home/devpocket/README.txt', content: 'from the template\n' }],
    }),
    sshPublicKey: client.public,
    volume: { name: volumeName, sizeGigabytes: 1 },
  };
  const ssh = async (ids: ProviderIds, command: string) => {
    const state = await driver.inspect(ids);
    if (!state.address) throw new Error(`no address while ${state.status}`);
    return sshExec({
      ...state.address,
      username: asRoot ? 'devpocket' : (process.env.USER ?? 'root'),
      privateKey: client.private,
      hostPublicKey: host.public,
      command,
    });
  };
  const active = (ids: ProviderIds) =>
    until(async () => {
      const state = await driver.inspect(ids);
      return state.status === 'active' ? state : undefined;
    }, 'the local machine to be active');
  return { dataDir, driver, spec, client, host, phoneHome, warnings, ssh, active };
}

test('a local machine serves the pinned host key and the template files, keeps its volume across stop and start, and leaves nothing after destroy', async (t) => {
  const { dataDir, driver, spec, host, client, phoneHome, ssh, active } = await setup(t);

  const ids = await driver.create(spec, {});
  t.truthy(ids.machineId);
  t.is(ids.volumeId, spec.volume.name);
  const first = await active(ids);

  // cloud-init's phone_home: a form POST with the pinned host key, after sshd and runcmd.
  const call = await phoneHome.waitFor(`/phone-home/${spec.environmentId}`);
  t.is(call.contentType, 'application/x-www-form-urlencoded');
  t.deepEqual(Object.keys(call.fields), ['pub_key_ed25519', 'instance_id', 'hostname', 'fqdn']);
  t.is(call.fields.pub_key_ed25519?.trim(), host.public);
  t.is(call.fields.hostname, spec.hostname);

  const look = await ssh(
    ids,
    'cat ~/README.txt; pwd; tmux has-session -t main && echo tmux-ok; echo kept > ~/kept.txt',
  );
  t.is(look.code, 0, look.output);
  t.regex(look.output, /from the template/);
  t.regex(look.output, /tmux-ok/);
  if (asRoot) t.regex(look.output, /^\/home\/devpocket$/m);

  // A machine presenting any other host key is refused: the pin is what lets the connection through.
  await t.throwsAsync(
    sshExec({
      ...first.address!,
      username: asRoot ? 'devpocket' : (process.env.USER ?? 'root'),
      privateKey: client.private,
      hostPublicKey: newKeyPair('other').public,
      command: 'true',
    }),
    { message: /verification failed/i },
  );

  const afterStop = await driver.stop(ids);
  t.deepEqual(afterStop, { volumeId: ids.volumeId, sshKeyId: ids.sshKeyId });
  t.is((await driver.inspect(ids)).status, 'missing');
  t.false(await sshBanner(first.address!.host, first.address!.port));
  t.true(existsSync(join(dataDir, 'environments', spec.volume.name)));
  // Stopping twice is a no-op, as the reconciler may repeat a step.
  t.deepEqual(await driver.stop(ids), afterStop);

  const again = await driver.create(spec, afterStop);
  t.is(again.volumeId, ids.volumeId);
  await active(again);
  const back = await ssh(again, 'cat ~/kept.txt');
  t.is(back.output.trim(), 'kept');

  await driver.destroy(again);
  t.is((await driver.inspect(again)).status, 'missing');
  t.false(existsSync(join(dataDir, 'environments', spec.volume.name)));
  await driver.destroy(again);
});

test('creating again after a crash finds the running machine instead of starting a second one', async (t) => {
  const { driver, spec, active, ssh } = await setup(t);
  const ids = await driver.create(spec, {});
  // The reconciler crashed before recording anything and tries again with no ids.
  const repeat = await driver.create(spec, {});
  t.deepEqual(repeat, ids);
  await active(ids);
  const sessions = await ssh(ids, 'echo up');
  t.is(sessions.output.trim(), 'up');
});

test('the parts a local machine cannot apply are named, and the volume mounted at /home is not among them', async (t) => {
  const { driver, spec, warnings, active, phoneHome } = await setup(t);
  const parts = driver.unsupportedParts(spec.userData);
  t.true(parts.some((part) => part.includes('`packages`')));
  t.true(parts.some((part) => part.includes('`package_update`')));
  t.false(parts.some((part) => part.includes('mounts') || part.includes('fs_setup')));

  const ids = await driver.create(spec, {});
  await active(ids);
  await phoneHome.waitFor(`/phone-home/${spec.environmentId}`);
  const last = await until(() => warnings.at(-1), 'the machine warnings');
  t.true(last.some((warning) => warning.includes('/etc/motd')));
  t.false(
    last.some((warning) => warning.startsWith('runcmd')),
    last.join('\n'),
  );
});

test('without sshd, creating a local machine is a clear non-retryable error naming openssh-server', async (t) => {
  const { driver, spec } = await setup(t, { sshd: '/nonexistent/sbin/sshd' });
  const error = await t.throwsAsync(driver.create(spec, {}), { instanceOf: ProviderError });
  t.false(error.retryable);
  t.regex(error.message, /openssh-server/);
});

test('phone_home tries again when FairyID answers with an error, like cloud-init', async (t) => {
  const { driver, spec, phoneHome, active } = await setup(t, {}, 2);
  const ids = await driver.create(spec, {});
  await active(ids);
  const call = await phoneHome.waitFor(`/phone-home/${spec.environmentId}`);
  t.is(phoneHome.failed.length, 2);
  t.is(phoneHome.calls.length, 1);
  t.is(call.fields.instance_id, ids.machineId);
});

test('closing the driver stops every machine and keeps the volumes', async (t) => {
  const { dataDir, driver, spec, active } = await setup(t);
  const ids = await driver.create(spec, {});
  const address = await active(ids);
  await driver.close();
  t.false(await sshBanner(address.address!.host, address.address!.port));
  t.is((await driver.inspect(ids)).status, 'missing');
  t.true(existsSync(join(dataDir, 'environments', spec.volume.name, 'devpocket')));
});

test('a machine whose port was taken meanwhile is a retryable failure, and the next create picks another port', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-local-driver-'));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const takenPort = (taken.address() as AddressInfo).port;
  let calls = 0;
  const driver = createLocalDriver({
    dataDir,
    // The first machine is handed a port someone else holds, as a race with another process would.
    hostFor: async () => ({ host: '127.0.0.1', port: calls++ === 0 ? takenPort : await freePortFor() }),
  });
  t.teardown(async () => {
    await driver.close();
    taken.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const { spec } = await setup(t);
  const ids = await driver.create(spec, {});
  const failure = await until(
    () =>
      driver.inspect(ids).then(
        () => undefined,
        (error: ProviderError) => error,
      ),
    'the start to fail',
  );
  t.true(failure.retryable, failure.message);
  t.is((await driver.inspect(ids)).status, 'missing');
  const again = await driver.create(spec, ids);
  const state = await until(async () => {
    const current = await driver.inspect(again);
    return current.status === 'active' ? current : undefined;
  }, 'the second start');
  t.not(state.address?.port, takenPort);
});

async function freePortFor() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
