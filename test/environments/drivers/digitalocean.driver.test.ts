import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { createDigitalOceanDriver } from '../../../src/environments/digitalocean.driver.ts';
import { type MachineSpec, ProviderError, type ProviderIds } from '../../../src/environments/driver.ts';
import { startDigitalOceanStandIn } from '../../helpers/digitalocean-stand-in.ts';
import { machineCloudConfig, newKeyPair, sshExec, startPhoneHomeReceiver, until } from '../../helpers/machines.ts';

// Every droplet's sshd listens on 127.0.61.N:22; other test files use other blocks, and the tests
// of this file (which run concurrently) take 20 addresses each.
const ADDRESS_BLOCK = 61;
let standIns = 0;

async function setup(
  t: ExecutionContext,
  driverOptions: { now?: () => number; shutdownTimeoutMs?: number } = {},
  standInOptions: { maxPerPage?: number } = {},
) {
  const first = 1 + 20 * standIns++;
  const standIn = await startDigitalOceanStandIn(t, {
    addressBlock: ADDRESS_BLOCK,
    firstHost: first,
    lastHost: first + 19,
    ...standInOptions,
  });
  const phoneHome = await startPhoneHomeReceiver(t);
  const driver = createDigitalOceanDriver({
    token: standIn.token,
    baseUrl: standIn.url,
    pollIntervalMs: 20,
    ...driverOptions,
  });
  const environmentId = randomUUID();
  const client = newKeyPair(`fairyid-${environmentId}`);
  const host = newKeyPair(`host-${environmentId}`);
  const volumeName = `fairyid-home-${environmentId.slice(0, 8)}`;
  const spec: MachineSpec = {
    environmentId,
    hostname: `env-${environmentId.slice(0, 8)}`,
    size: 's-1vcpu-512mb-10gb',
    region: 'nyc3',
    image: 'debian-12-x64',
    userData: machineCloudConfig({
      client,
      host,
      volumeName,
      phoneHomeUrl: `${phoneHome.url}/phone-home/${environmentId}`,
      files: [{ path: '/home/devpocket/README.txt', content: 'from the template\n' }],
    }),
    sshPublicKey: client.public,
    volume: { name: volumeName, sizeGigabytes: 10 },
  };
  const active = (ids: ProviderIds) =>
    until(async () => {
      if (standIn.machineErrors.length) throw new Error(standIn.machineErrors.join('\n'));
      const state = await driver.inspect(ids);
      return state.status === 'active' && state.address ? state.address : undefined;
    }, 'the droplet to be active');
  const ssh = (address: { host: string; port: number }, command: string) =>
    sshExec({ ...address, username: 'devpocket', privateKey: client.private, hostPublicKey: host.public, command });
  return { standIn, phoneHome, driver, spec, host, client, active, ssh };
}

test('a droplet boots from the cloud-config with the pinned host key; stop leaves only the volume and key, start brings the same files back, destroy leaves nothing', async (t) => {
  const { standIn, phoneHome, driver, spec, host, client, active, ssh } = await setup(t);

  const ids = await driver.create(spec, {});
  t.truthy(ids.machineId && ids.volumeId && ids.sshKeyId);
  const droplet = standIn.droplets.get(Number(ids.machineId));
  t.deepEqual(droplet?.tags, ['fairyid', `fairyid-env-${spec.environmentId}`]);
  t.deepEqual(droplet?.volume_ids, [ids.volumeId]);
  t.is((await driver.inspect(ids)).status, 'creating');

  const address = await active(ids);
  t.regex(address.host, /^127\.0\.61\.\d+$/);
  t.is(address.port, 22);
  const call = await phoneHome.waitFor(`/phone-home/${spec.environmentId}`);
  t.is(call.contentType, 'application/x-www-form-urlencoded');
  t.is(call.fields.instance_id, ids.machineId);
  t.is(call.fields.pub_key_ed25519?.trim(), host.public);

  const look = await ssh(address, 'cat ~/README.txt && echo kept-across-stop > ~/kept.txt');
  t.is(look.code, 0, look.output);
  t.is(look.output, 'from the template\n');
  // A different host key is refused: the pin is what makes the connection succeed.
  await t.throwsAsync(
    sshExec({
      ...address,
      username: 'devpocket',
      privateKey: client.private,
      hostPublicKey: newKeyPair('other').public,
      command: 'true',
    }),
    { message: /verification failed/i },
  );

  const afterStop = await driver.stop(ids);
  t.deepEqual(afterStop, { volumeId: ids.volumeId, sshKeyId: ids.sshKeyId });
  t.deepEqual(standIn.leftovers(), {
    droplets: [],
    volumes: [ids.volumeId],
    keys: [Number(ids.sshKeyId)],
    machines: [],
  });
  t.deepEqual(standIn.volumes.get(ids.volumeId!)?.droplet_ids, []);
  t.is((await driver.inspect(ids)).status, 'missing');
  const stopCalls = standIn.calls.filter((c) => c.method === 'POST' && /actions$/.test(c.path)).map((c) => c.path);
  t.deepEqual(stopCalls, [`/v2/droplets/${ids.machineId}/actions`, `/v2/volumes/${ids.volumeId}/actions`]);
  // Repeating the step finds nothing left to do.
  t.deepEqual(await driver.stop(ids), afterStop);

  const started = await driver.create(spec, afterStop);
  t.not(started.machineId, ids.machineId);
  t.is(started.volumeId, ids.volumeId);
  t.is(started.sshKeyId, ids.sshKeyId);
  const again = await active(started);
  const back = await ssh(again, 'cat ~/kept.txt ~/README.txt');
  t.is(back.output, 'kept-across-stop\nfrom the template\n');

  await driver.destroy(started);
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
  t.false(existsSync(standIn.volumeDir(ids.volumeId!)));
  await driver.destroy(started);
});

test('a repeated create after a crash finds the key, volume and droplet instead of doubling them', async (t) => {
  const { standIn, driver, spec, active } = await setup(t);
  // The droplet request fails after the key and the volume were made; the reconciler recorded nothing.
  standIn.fail(1, 503, { method: 'POST', path: /^\/v2\/droplets$/ });
  const error = await t.throwsAsync(driver.create(spec, {}), { instanceOf: ProviderError });
  t.true(error.retryable);
  t.is(standIn.keys.size, 1);
  t.is(standIn.volumes.size, 1);
  t.is(standIn.droplets.size, 0);

  const ids = await driver.create(spec, {});
  // The server died before recording these ids too: the next attempt finds the droplet by its tag.
  const repeat = await driver.create(spec, {});
  t.deepEqual(repeat, ids);
  t.is(standIn.keys.size, 1);
  t.is(standIn.volumes.size, 1);
  t.is(standIn.droplets.size, 1);
  await active(ids);

  // destroy with only the volume recorded still finds the droplet (through the volume's tag).
  await driver.destroy({ volumeId: ids.volumeId, sshKeyId: ids.sshKeyId });
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
});

test('HTTP 429 is a retryable error that waits until ratelimit-reset, and a spent quota is not spent again', async (t) => {
  const now = 1_800_000_000_000;
  const { standIn, driver } = await setup(t, { now: () => now });
  standIn.rateLimit(1, now / 1000 + 42);
  const error = await t.throwsAsync(driver.inspect({ machineId: '1' }), { instanceOf: ProviderError });
  t.true(error.retryable);
  t.is(error.retryAfterMs, 42_000);

  // The 429 said ratelimit-remaining 0: until the reset the driver does not ask again.
  const calls = standIn.calls.length;
  const waiting = await t.throwsAsync(driver.inspect({ machineId: '1' }), { instanceOf: ProviderError });
  t.true(waiting.retryable);
  t.is(waiting.retryAfterMs, 42_000);
  t.is(standIn.calls.length, calls);
});

test('an answer saying the quota is spent makes the next call wait for ratelimit-reset without asking', async (t) => {
  let now = 1_800_000_000_000;
  const { standIn, driver } = await setup(t, { now: () => now });
  standIn.spendQuota(now / 1000 + 30);
  t.is((await driver.inspect({ machineId: '1' })).status, 'missing');
  const calls = standIn.calls.length;
  const waiting = await t.throwsAsync(driver.inspect({ machineId: '1' }), { instanceOf: ProviderError });
  t.true(waiting.retryable);
  t.is(waiting.retryAfterMs, 30_000);
  t.is(standIn.calls.length, calls);
  // Once the reset time has passed, requests go out again.
  now += 30_000;
  t.is((await driver.inspect({ machineId: '1' })).status, 'missing');
  t.is(standIn.calls.length, calls + 1);
});

test('server errors and unreachable APIs are retryable; a wrong token is not', async (t) => {
  const { standIn, driver, spec } = await setup(t);
  standIn.fail(1, 503);
  const blip = await t.throwsAsync(driver.inspect({ machineId: '1' }), { instanceOf: ProviderError });
  t.true(blip.retryable);
  t.is(blip.retryAfterMs, undefined);
  t.is((await driver.inspect({ machineId: '1' })).status, 'missing');

  const unreachable = createDigitalOceanDriver({ token: standIn.token, baseUrl: 'http://127.0.0.1:9' });
  const down = await t.throwsAsync(unreachable.inspect({ machineId: '1' }), { instanceOf: ProviderError });
  t.true(down.retryable);

  const wrongToken = createDigitalOceanDriver({ token: 'dop_v1_wrong', baseUrl: standIn.url });
  const refused = await t.throwsAsync(wrongToken.create(spec, {}), { instanceOf: ProviderError });
  t.false(refused.retryable);
  t.regex(refused.message, /token/);
});

test('an unknown size or region is a non-retryable error with a human message, and nothing is left behind', async (t) => {
  const { standIn, driver, spec } = await setup(t);
  const badSize = await t.throwsAsync(driver.create({ ...spec, size: 's-64vcpu-fantasy' }, {}), {
    instanceOf: ProviderError,
  });
  t.false(badSize.retryable);
  t.regex(badSize.message, /invalid size/);
  // The key and the volume made before the refusal are gone: the reconciler never learnt their ids.
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });

  const badRegion = await t.throwsAsync(driver.create({ ...spec, region: 'atlantis1' }, {}), {
    instanceOf: ProviderError,
  });
  t.false(badRegion.retryable);
  t.regex(badRegion.message, /Region is not available/);
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
});

test('a refused start after a stop keeps the recorded volume and key', async (t) => {
  const { standIn, driver, spec, active } = await setup(t);
  const ids = await driver.create(spec, {});
  await active(ids);
  const kept = await driver.stop(ids);
  const refused = await t.throwsAsync(driver.create({ ...spec, size: 's-64vcpu-fantasy' }, kept), {
    instanceOf: ProviderError,
  });
  t.false(refused.retryable);
  t.deepEqual(standIn.leftovers(), {
    droplets: [],
    volumes: [ids.volumeId],
    keys: [Number(ids.sshKeyId)],
    machines: [],
  });
  await driver.destroy(kept);
});

test('a droplet that ignores the shutdown is powered off, then stopped as usual', async (t) => {
  const { standIn, driver, spec, active } = await setup(t, { shutdownTimeoutMs: 200 });
  const ids = await driver.create(spec, {});
  await active(ids);
  standIn.ignoreShutdowns();
  const kept = await driver.stop(ids);
  const dropletActions = standIn.calls.filter(
    (call) => call.method === 'POST' && call.path === `/v2/droplets/${ids.machineId}/actions`,
  );
  t.deepEqual(standIn.actionTypes(), ['create', 'shutdown', 'power_off', 'detach_volume']);
  t.is(dropletActions.length, 2);
  t.deepEqual(standIn.leftovers(), {
    droplets: [],
    volumes: [ids.volumeId],
    keys: [Number(ids.sshKeyId)],
    machines: [],
  });
  await driver.destroy(kept);
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
});

test('destroy removes every droplet tagged for the environment, following the pages of the list', async (t) => {
  const { standIn, driver, spec, active } = await setup(t, {}, { maxPerPage: 1 });
  const ids = await driver.create(spec, {});
  await active(ids);
  // A second droplet with the environment's tag, as a lost race between two instances would leave.
  const response = await fetch(`${standIn.url}/v2/droplets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${standIn.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `${spec.hostname}-twin`,
      region: spec.region,
      size: spec.size,
      image: spec.image,
      tags: ['fairyid', `fairyid-env-${spec.environmentId}`],
    }),
  });
  t.is(response.status, 202);
  t.is(standIn.droplets.size, 2);

  await driver.destroy(ids);
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
  // With one droplet per page, finding the twin took the second page.
  t.true(standIn.calls.filter((call) => call.method === 'GET' && call.path === '/v2/droplets').length >= 2);
});

test('two instances creating the same environment at once end with one key, one volume and one droplet', async (t) => {
  const { standIn, driver, spec, active } = await setup(t);
  const results = await Promise.allSettled([driver.create(spec, {}), driver.create(spec, {})]);
  const made = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  t.true(made.length >= 1);
  // The loser of the race, if any, is told to try again rather than failing the environment.
  for (const result of results) {
    if (result.status === 'rejected') t.true((result.reason as ProviderError).retryable, String(result.reason));
  }
  const ids = await driver.create(spec, made[0] ?? {});
  for (const other of made) t.deepEqual(other, ids);
  t.is(standIn.keys.size, 1);
  t.is(standIn.volumes.size, 1);
  t.is(standIn.droplets.size, 1);
  await active(ids);
  await driver.destroy(ids);
  t.deepEqual(standIn.leftovers(), { droplets: [], volumes: [], keys: [], machines: [] });
});
