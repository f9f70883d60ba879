import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  startEnvironmentServer,
  waitForState,
} from '../helpers/environments.ts';
import { until } from '../helpers/machines.ts';
import { joinByInvitation } from '../helpers/organizations.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import type { TestServer } from '../helpers/server.ts';

const ORG_SCOPES = [...ENVIRONMENT_SCOPES, 'organizations:read', 'organizations:write'];

/** Who got a mail whose subject matches, sorted. */
const recipientsOf = async (url: string, subject: RegExp) =>
  (await outboxMessages(url))
    .filter((message) => subject.test(message.subject))
    .map((message) => message.to)
    .sort();

test('an organization environment’s low-balance, idle and stop notices go to its owners and admins, not its other members', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-org-notices-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const server = await startEnvironmentServer(
    { ...(await environmentStorage(t)), ENVIRONMENT_IDLE_MINUTES: '90', ENVIRONMENT_IDLE_WARNING_MINUTES: '10' },
    { driver },
  );
  t.teardown(() => server.stop());

  const owner = await apiToken(server, 'owner@example.com', ORG_SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Grove', slug: 'grove' })).body!;
  await joinByInvitation(server, owner, org.id, 'admin@example.com', 'admin');
  await joinByInvitation(server, owner, org.id, 'creator@example.com', 'admin');
  await joinByInvitation(server, owner, org.id, 'member@example.com', 'member');
  await joinByInvitation(server, owner, org.id, 'billing@example.com', 'billing');
  // Two hours' DUST: once the second hour is booked, the wallet holds less than the next one.
  await fund(server, owner, org.id, 2);

  const creator = await apiToken(server, 'creator@example.com', ORG_SCOPES);
  const created = await createEnvironment(server, creator, {
    name: 'Grove box',
    template: 'test-box',
    organization_id: org.id,
  });
  t.is(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  await waitForState(server, creator, id, 'running');
  await until(async () => {
    await server.app.environments.reconciler.tick();
    return (await callApi(server, creator, 'GET', `/api/environments/${id}`)).body!.cost_since_start === 1 || undefined;
  }, 'the first hour booked');
  // The creator leaves the organization: an organization's notices are for its people only.
  const leave = await callApi(server, creator, 'DELETE', `/api/organizations/${org.id}/members/${subjectOf(creator)}`);
  t.is(leave.status, 204);
  server.clock.advance(60 * 60);

  const managers = ['admin@example.com', 'owner@example.com'];
  const lowBalance = await until(async () => {
    await server.app.environments.reconciler.tick();
    const to = await recipientsOf(server.url, /less than an hour left/);
    return to.length >= managers.length ? to : undefined;
  }, 'the low-balance notices');
  t.deepEqual(lowBalance, managers);

  server.clock.advance(21 * 60);
  const idle = await until(async () => {
    await server.app.environments.reconciler.tick();
    const to = await recipientsOf(server.url, /will stop soon/);
    return to.length >= managers.length ? to : undefined;
  }, 'the idle warnings');
  t.deepEqual(idle, managers);

  server.clock.advance(11 * 60);
  const stopped = await until(async () => {
    await server.app.environments.reconciler.tick();
    const to = await recipientsOf(server.url, /was stopped after being idle/);
    return to.length >= managers.length ? to : undefined;
  }, 'the stop notices');
  t.deepEqual(stopped, managers);
  await waitForState(server, owner, id, 'stopped');
  t.deepEqual(
    await recipientsOf(server.url, /Grove box/),
    [...managers, ...managers, ...managers].sort(),
    'the member, the billing contact and the creator who left heard nothing',
  );
});

test('a member who created an organization environment hears about it along with the owners and admins', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-org-notices-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const server = await startEnvironmentServer(await environmentStorage(t), { driver });
  t.teardown(() => server.stop());
  const owner = await apiToken(server, 'owner@example.com', ORG_SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Glade', slug: 'glade' })).body!;
  const admin = await joinByInvitation(server, owner, org.id, 'maker@example.com', 'admin');
  const maker = await apiToken(server, 'maker@example.com', ORG_SCOPES);
  await fund(server, owner, org.id, 1);
  const created = await createEnvironment(server, maker, {
    name: 'Glade box',
    template: 'test-box',
    organization_id: org.id,
  });
  t.is(created.status, 201, JSON.stringify(created.body));
  // Made while an admin, then demoted to member: still told, as the one who made it.
  t.is(
    (
      await callApi(server, owner, 'PATCH', `/api/organizations/${org.id}/members/${admin.accountId}`, {
        role: 'member',
      })
    ).status,
    204,
  );
  const environment = await server.app.environments.service.get(admin.accountId, created.body.id as string);
  const recipients = await server.app.environments.service.noticeRecipients(environment);
  t.deepEqual(recipients.sort(), [admin.accountId, subjectOf(owner)].sort());
});

const subjectOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sub as string;

async function fund(server: TestServer, ownerToken: string, organizationId: string, amount: number) {
  const transfer = await fetch(`${server.url}/api/dust/transfers`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ownerToken}`,
      'content-type': 'application/json',
      'idempotency-key': crypto.randomUUID(),
    },
    body: JSON.stringify({ organization_id: organizationId, direction: 'to_organization', amount }),
  });
  if (transfer.status !== 201) throw new Error(`the transfer answered ${transfer.status}`);
}
