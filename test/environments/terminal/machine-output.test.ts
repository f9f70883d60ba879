import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createDigitalOceanDriver } from '../../../src/environments/digitalocean.driver.ts';
import { OUTPUT_TOTAL_BYTES } from '../../../src/environments/machine-output.ts';
import { apiToken, callApi } from '../../helpers/api.ts';
import { startDigitalOceanStandIn } from '../../helpers/digitalocean-stand-in.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  sshRun,
  startEnvironmentServer,
  waitForState,
} from '../../helpers/environments.ts';
import { until } from '../../helpers/machines.ts';
import { readEvents, type ServerSentEvent } from '../../helpers/server-sent-events.ts';
import type { TestServer } from '../../helpers/server.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';

// Real sshd machines (the local driver and the DigitalOcean stand-in's droplets) with their own /home and
// /var/log need root.
const rootTest = process.getuid?.() === 0 ? test.serial : test.skip;

/** Templates whose runcmd prints what the tests look for; `test-box` stays for the helpers. */
async function templatesDir(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-output-templates-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const template = (name: string, runcmd: unknown[]) =>
    JSON.stringify({
      name,
      description: 'Prints for the tests.',
      image: 'debian-12-x64',
      default_tier: 'free',
      user_data: { runcmd },
    });
  await writeFile(
    join(dir, 'test-box.yaml'),
    template('Test box', ['echo "line one"', 'echo "line two" >&2', "printf 'no newline at the end'"]),
  );
  await writeFile(join(dir, 'flood-box.yaml'), template('Flood box', ['seq 1 200000']));
  await writeFile(
    join(dir, 'slow-box.yaml'),
    template('Slow box', [
      "printf 'booting one\\nbooting two\\nhalf-'",
      'while [ ! -e /home/devpocket/go ]; do sleep 0.1; done',
      'echo line; echo booted',
      'touch /home/devpocket/done',
    ]),
  );
  return dir;
}

const output = (events: ServerSentEvent[]) =>
  events
    .filter((event) => event.data.kind === 'machine_output')
    .map((event) => event.data.message as string)
    .join('\n');

type TrailEvent = { kind: string; message: string | null };
async function trail(server: TestServer, token: string, id: string) {
  const events: TrailEvent[] = [];
  let cursor = '';
  for (;;) {
    const page = await callApi(server, token, 'GET', `/api/environments/${id}/events?limit=100${cursor}`);
    events.push(...(page.body!.data as TrailEvent[]));
    if (!page.body!.next_cursor) return events;
    cursor = `&cursor=${page.body!.next_cursor}`;
  }
}

rootTest(
  'GET /api/environments/{id}/logs carries what runcmd printed, in order and once, and resumes after Last-Event-ID',
  async (t) => {
    const { server } = await startTerminalServer(t, { env: { TEMPLATES_DIR: await templatesDir(t) } });
    const environment = await runningEnvironment(server, 'output@example.com');
    const path = `/api/environments/${environment.id}/logs`;
    const expected = 'line one\nline two\nno newline at the end';
    const first = (await readEvents(server, environment.token, path, (events) => output(events) === expected)).events;
    const kinds = first.map((event) => event.data.kind);
    t.true(kinds.indexOf('machine_requested') < kinds.indexOf('machine_output'), kinds.join(', '));

    // Later visits of the running environment read nothing again.
    await server.app.environments.reconciler.tick();
    await server.app.environments.reconciler.tick();
    const stored = (await trail(server, environment.token, environment.id)).filter(
      (event) => event.kind === 'machine_output',
    );
    t.is(stored.map((event) => event.message).join('\n'), expected, 'each line once');

    const firstOutput = first.findIndex((event) => event.data.kind === 'machine_output');
    const resumed = (
      await readEvents(
        server,
        environment.token,
        path,
        (events) => events.length >= first.length - firstOutput - 1,
        first[firstOutput]!.id,
      )
    ).events;
    t.deepEqual(
      resumed.map((event) => event.id),
      first.slice(firstOutput + 1).map((event) => event.id),
      'only what came after Last-Event-ID',
    );

    for (const bad of ['not-an-id', Buffer.from('{"at":1}').toString('base64url'), 'x'.repeat(2000)]) {
      const response = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${environment.token}`, 'last-event-id': bad },
      });
      t.is(response.status, 400, bad.slice(0, 20));
      t.is(((await response.json()) as { error: string }).error, 'invalid_request');
    }

    // A start after a stop is a new machine with a log of its own, read from its beginning.
    const { id, token } = environment;
    t.is((await callApi(server, token, 'POST', `/api/environments/${id}/stop`)).status, 202);
    await waitForState(server, token, id, 'stopped');
    t.is((await callApi(server, token, 'POST', `/api/environments/${id}/start`)).status, 202);
    await waitForState(server, token, id, 'running');
    const both = (await readEvents(server, token, path, (events) => output(events) === `${expected}\n${expected}`))
      .events;
    t.true(both.length > first.length);
  },
);

rootTest('a machine that prints without end is cut at the limit with an "output truncated" event', async (t) => {
  const { server } = await startTerminalServer(t, { env: { TEMPLATES_DIR: await templatesDir(t) } });
  const token = await apiToken(server, 'flood@example.com', ENVIRONMENT_SCOPES);
  const created = await createEnvironment(server, token, { name: 'Flood', template: 'flood-box' });
  t.is(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  await waitForState(server, token, id, 'running');
  const events = (
    await readEvents(server, token, `/api/environments/${id}/logs`, (seen) =>
      seen.some((event) => event.data.kind === 'machine_output_truncated'),
    )
  ).events;
  const text = output(events);
  const seq = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join('');
  t.true(seq.startsWith(`${text}\n`), 'whole lines from the beginning, none twice');
  t.true(Buffer.byteLength(text) <= OUTPUT_TOTAL_BYTES);
  t.true(Buffer.byteLength(text) > OUTPUT_TOTAL_BYTES - 100, 'up to the limit');
  for (const event of events.filter((each) => each.data.kind === 'machine_output'))
    t.true(Buffer.byteLength(event.data.message) <= 4096);
  const truncated = events.find((event) => event.data.kind === 'machine_output_truncated')!;
  t.regex(truncated.data.message, /truncated after 256 KiB: the rest is in \/var\/log\/cloud-init-output\.log/);

  await server.app.environments.reconciler.tick();
  const stored = (await trail(server, token, id)).filter((event) => event.kind.startsWith('machine_output'));
  t.is(stored.length, events.filter((event) => event.data.kind.startsWith('machine_output')).length, 'no more reads');
});

rootTest(
  'on a DigitalOcean droplet the output of a booting machine is read over SSH while it boots, the rest once ready',
  async (t) => {
    const standIn = await startDigitalOceanStandIn(t, { addressBlock: 81 });
    standIn.blockPhoneHome();
    const driver = createDigitalOceanDriver({ token: standIn.token, baseUrl: standIn.url, pollIntervalMs: 20 });
    const server = await startEnvironmentServer(
      {
        ...(await environmentStorage(t)),
        TEMPLATES_DIR: await templatesDir(t),
        // Long enough that following the boot never reaches it; the test moves the clock past it.
        ENVIRONMENT_PHONE_HOME_GRACE: '3600',
        ENVIRONMENT_READY_TIMEOUT: '7200',
      },
      { driver },
    );
    t.teardown(() => server.stop());
    const token = await apiToken(server, 'droplet@example.com', ENVIRONMENT_SCOPES);
    const created = await createEnvironment(server, token, { name: 'Slow', template: 'slow-box' });
    t.is(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const path = `/api/environments/${id}/logs`;

    // The reconciler follows the log every 2 s of its clock while it waits for the machine.
    const tail = async () => {
      server.clock.advance(2);
      await server.app.environments.reconciler.tick();
      const events = (await trail(server, token, id)).filter((event) => event.kind === 'machine_output');
      return events.map((event) => event.message).join('\n');
    };
    await until(async () => (await tail()) === 'booting one\nbooting two' || undefined, 'the boot output');
    t.is((await callApi(server, token, 'GET', `/api/environments/${id}`)).body!.state, 'provisioning');
    t.is(await tail(), 'booting one\nbooting two', 'an unfinished line waits for its end');

    const row = await server.app.services.db
      .selectFrom('environments')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const ssh = {
      host: row.ip_address!,
      port: row.ssh_port!,
      username: 'devpocket',
      privateKey: server.app.environments.keySeal.open(id, 'client', row.client_private_key_sealed),
      hostPublicKey: row.host_public_key,
    };
    await sshRun({ ...ssh, command: 'touch ~/go' });
    await until(
      async () => (await sshRun({ ...ssh, command: 'test -e ~/done && echo yes' })) === 'yes\n' || undefined,
      'runcmd',
    );

    // No phone_home: ready through the SSH probe after the grace, then the last read.
    server.clock.advance(3601);
    await waitForState(server, token, id, 'running');
    const events = (await readEvents(server, token, path, (seen) => output(seen).endsWith('booted'))).events;
    t.is(output(events), 'booting one\nbooting two\nhalf-line\nbooted');
    const kinds = events.map((event) => event.data.kind);
    t.true(kinds.indexOf('machine_output') < kinds.indexOf('ready'), kinds.join(', '));
  },
);
