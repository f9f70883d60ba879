import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createLocalDriver } from '../../src/environments/local.driver.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  startEnvironmentServer,
} from '../helpers/environments.ts';
import { joinByInvitation } from '../helpers/organizations.ts';
import type { TestServer } from '../helpers/server.ts';

async function start(t: ExecutionContext, env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-refusals-'));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const server = await startEnvironmentServer({ ...(await environmentStorage(t)), ...env }, { driver });
  t.teardown(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return server;
}

const ORG_SCOPES = [...ENVIRONMENT_SCOPES, 'organizations:read', 'organizations:write'];

async function organizationWithDust(server: TestServer, token: string, slug: string, dust = 10) {
  const org = await callApi(server, token, 'POST', '/api/organizations', { name: slug, slug });
  if (org.status !== 201) throw new Error(`creating the organization answered ${org.status}`);
  const response = await fetch(`${server.url}/api/dust/transfers`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': crypto.randomUUID(),
    },
    body: JSON.stringify({ organization_id: org.body!.id, direction: 'to_organization', amount: dust }),
  });
  if (response.status !== 201) throw new Error(`the transfer answered ${response.status}`);
  return org.body!.id as string;
}

const count = async (server: TestServer) =>
  Number(
    (
      await server.app.services.db
        .selectFrom('environments')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

test('20 concurrent identical creates make one environment; another body with the key is 409', async (t) => {
  const server = await start(t);
  const token = await apiToken(server, 'burst@example.com', ENVIRONMENT_SCOPES);
  const key = crypto.randomUUID();
  const body = { name: 'Burst', template: 'test-box' };
  const answers = await Promise.all(Array.from({ length: 20 }, () => createEnvironment(server, token, body, key)));
  t.deepEqual(
    answers.map((answer) => answer.status),
    Array(20).fill(201),
  );
  t.is(new Set(answers.map((answer) => answer.body.id)).size, 1, 'every answer names the same environment');
  t.is(answers.filter((answer) => answer.replayed === 'true').length, 19);
  t.is(await count(server), 1);

  const reused = await createEnvironment(server, token, { ...body, name: 'Other' }, key);
  t.is(reused.status, 409);
  t.is(reused.body.error, 'idempotency_key_reused');
  const missing = await createEnvironment(server, token, body, null);
  t.is(missing.status, 400);
  t.is(missing.body.error, 'idempotency_key_required');
  t.is(await count(server), 1, 'nothing half-created');
});

test('a person cannot pass the per-person limit, even with concurrent creates, nor create what they cannot pay', async (t) => {
  const server = await start(t, { ENVIRONMENTS_PER_PERSON: '2', ENVIRONMENT_PRICES: 'free:1,starter:2,pro:100' });
  const token = await apiToken(server, 'limit@example.com', ENVIRONMENT_SCOPES);
  const poor = await createEnvironment(server, token, { name: 'Big', template: 'test-box', tier: 'pro' });
  t.is(poor.status, 402);
  t.is(poor.body.error, 'insufficient_funds');
  t.regex(poor.body.error_description, /100 DUST per started hour/);
  t.is(await count(server), 0);

  const answers = await Promise.all(
    Array.from({ length: 5 }, (_, i) => createEnvironment(server, token, { name: `Box ${i}`, template: 'test-box' })),
  );
  t.deepEqual(answers.map((answer) => answer.status).sort(), [201, 201, 409, 409, 409]);
  const refused = answers.find((answer) => answer.status === 409)!;
  t.is(refused.body.error, 'environment_limit_reached');
  t.is(await count(server), 2);

  const unknown = await createEnvironment(server, token, { name: 'X', template: 'no-such-template' });
  t.is(unknown.status, 400);
  t.is(unknown.body.error, 'unknown_template');
  const region = await createEnvironment(server, token, { name: 'X', template: 'test-box', region: 'mars1' });
  t.is(region.body.error, 'unknown_region');
});

test('tokens without the scope, other people and non-members are refused, and see nothing', async (t) => {
  const server = await start(t);
  const owner = await apiToken(server, 'owner@example.com', ORG_SCOPES);
  const created = await createEnvironment(server, owner, { name: 'Mine', template: 'test-box' });
  t.is(created.status, 201);
  const id = created.body.id as string;

  const readOnly = await apiToken(server, 'owner@example.com', ['environments:read']);
  const write = await createEnvironment(server, readOnly, { name: 'No', template: 'test-box' });
  t.is(write.status, 403);
  t.is(write.body.error, 'insufficient_scope');
  t.is((await callApi(server, readOnly, 'POST', `/api/environments/${id}/stop`)).status, 403);
  const dustOnly = await apiToken(server, 'owner@example.com', ['dust:read']);
  t.is((await callApi(server, dustOnly, 'GET', '/api/environments')).status, 403);

  const stranger = await apiToken(server, 'stranger@example.com', ORG_SCOPES);
  for (const [method, path] of [
    ['GET', `/api/environments/${id}`],
    ['GET', `/api/environments/${id}/events`],
    ['POST', `/api/environments/${id}/stop`],
    ['PATCH', `/api/environments/${id}`],
    ['DELETE', `/api/environments/${id}`],
  ] as const) {
    const answer = await callApi(server, stranger, method, path, method === 'PATCH' ? { name: 'Taken' } : undefined);
    t.is(answer.status, 404, `${method} ${path}`);
    t.is(answer.body!.error, 'environment_not_found');
  }
  t.deepEqual((await callApi(server, stranger, 'GET', '/api/environments')).body!.data, []);
  t.is((await callApi(server, owner, 'GET', `/api/environments/${id}`)).body!.name, 'Mine', 'untouched');

  const orgId = await organizationWithDust(server, owner, 'fairy-lab');
  const forOrg = await createEnvironment(server, stranger, {
    name: 'In',
    template: 'test-box',
    organization_id: orgId,
  });
  t.is(forOrg.status, 404, 'an organization does not exist to non-members');
  t.is(forOrg.body.error, 'organization_not_found');
});

test('organization environments: members use them, admins create and delete, the plan limits how many', async (t) => {
  const server = await start(t);
  const owner = await apiToken(server, 'boss@example.com', ORG_SCOPES);
  const orgId = await organizationWithDust(server, owner, 'pixie-works');
  await joinByInvitation(server, owner, orgId, 'member@example.com', 'member');
  const member = await apiToken(server, 'member@example.com', ORG_SCOPES);

  const byMember = await createEnvironment(server, member, { name: 'M', template: 'test-box', organization_id: orgId });
  t.is(byMember.status, 403);
  t.is(byMember.body.error, 'forbidden');

  const created = await createEnvironment(server, owner, {
    name: 'Team',
    template: 'test-box',
    organization_id: orgId,
  });
  t.is(created.status, 201);
  t.deepEqual(created.body.owner, { type: 'organization', id: orgId });
  t.is(created.body.balance, 10, 'paid from the organization wallet');
  const id = created.body.id as string;

  const second = await createEnvironment(server, owner, { name: 'Two', template: 'test-box', organization_id: orgId });
  t.is(second.status, 409, 'the free plan allows one environment');
  t.is(second.body.error, 'environment_limit_reached');
  t.regex(second.body.error_description, /free plan allows 1 environment/);

  const listed = (await callApi(server, member, 'GET', '/api/environments')).body!.data;
  t.deepEqual(
    listed.map((row: { id: string }) => row.id),
    [id],
    'members see the organization environments',
  );
  t.is((await callApi(server, member, 'PATCH', `/api/environments/${id}`, { name: 'Renamed' })).status, 200);
  const deleteByMember = await callApi(server, member, 'DELETE', `/api/environments/${id}`);
  t.is(deleteByMember.status, 403);
  t.is((await callApi(server, owner, 'DELETE', `/api/environments/${id}`)).status, 202);
});

test('an organization that is not approved cannot create environments', async (t) => {
  const server = await start(t, { ORG_APPROVAL: 'manual' });
  const owner = await apiToken(server, 'pending@example.com', ORG_SCOPES);
  const org = await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wait', slug: 'wait-here' });
  t.is(org.body!.status, 'pending');
  const refused = await createEnvironment(server, owner, {
    name: 'No',
    template: 'test-box',
    organization_id: org.body!.id,
  });
  t.is(refused.status, 403);
  t.is(refused.body.error, 'organization_not_active');
  t.is(await count(server), 0);
});
