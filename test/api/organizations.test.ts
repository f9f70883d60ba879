import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { startTestServer } from '../helpers/server.ts';

const ORG_SCOPES = ['account:read', 'organizations:read', 'organizations:write'];

test('creating an organization makes you its owner, and it starts pending', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'founder@example.com', ORG_SCOPES);
  const created = await callApi(server, token, 'POST', '/api/organizations', {
    name: 'Fairy Ring',
    slug: 'fairy-ring',
  });
  t.is(created.status, 201);
  t.is(created.body!.role, 'owner');
  t.is(created.body!.status, 'pending');

  const mine = await callApi(server, token, 'GET', '/api/organizations');
  t.deepEqual(
    mine.body!.data.map((org: { slug: string }) => org.slug),
    ['fairy-ring'],
  );
  const me = await callApi(server, token, 'GET', '/api/me');
  t.like(me.body!.memberships[0], { slug: 'fairy-ring', role: 'owner' });

  const duplicate = await callApi(server, token, 'POST', '/api/organizations', { name: 'Other', slug: 'fairy-ring' });
  t.is(duplicate.status, 409);
  t.is(duplicate.body!.error, 'slug_taken');
});

test('bad input gets 400 invalid_request naming the field, and nothing is created', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'typo@example.com', ORG_SCOPES);
  const bad = await callApi(server, token, 'POST', '/api/organizations', { name: 'X', slug: 'Not A Slug' });
  t.is(bad.status, 400);
  t.is(bad.body!.error, 'invalid_request');
  t.regex(bad.body!.error_description, /body "slug"/);
  const broken = await fetch(`${server.url}/api/organizations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"name": ',
  });
  t.is(broken.status, 400);
  t.is(((await broken.json()) as { error: string }).error, 'invalid_request');
  t.deepEqual((await callApi(server, token, 'GET', '/api/organizations')).body!.data, []);
});

test('lists paginate with cursors', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'many@example.com', ORG_SCOPES);
  for (const n of [1, 2, 3])
    await callApi(server, token, 'POST', '/api/organizations', { name: `Org ${n}`, slug: `org-${n}` });
  const first = await callApi(server, token, 'GET', '/api/organizations?limit=2');
  t.is(first.body!.data.length, 2);
  t.truthy(first.body!.next_cursor);
  const second = await callApi(server, token, 'GET', `/api/organizations?limit=2&cursor=${first.body!.next_cursor}`);
  t.deepEqual(
    second.body!.data.map((org: { slug: string }) => org.slug),
    ['org-3'],
  );
  t.is(second.body!.next_cursor, null);
  const forged = await callApi(server, token, 'GET', '/api/organizations?cursor=not-ours');
  t.is(forged.status, 400);
});

test('the platform owner approves a pending organization; nobody else reaches platform routes', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: 'queen@example.com' } });
  const founder = await apiToken(server, 'founder@example.com', ORG_SCOPES);
  const queen = await apiToken(server, 'queen@example.com', ['platform:manage']);
  const org = (await callApi(server, founder, 'POST', '/api/organizations', { name: 'Ring', slug: 'ring' })).body!;
  await t.throwsAsync(server.app.services.organizations.requireActive(org.id), { message: /pending/ });

  const foundersTry = await apiToken(server, 'founder@example.com', ['platform:manage']);
  const refused = await callApi(server, foundersTry, 'GET', '/api/platform/organizations');
  t.is(refused.status, 403);
  t.is(refused.body!.error, 'platform_owner_required');

  const queue = await callApi(server, queen, 'GET', '/api/platform/organizations?status=pending');
  t.deepEqual(
    queue.body!.data.map((o: { slug: string }) => o.slug),
    ['ring'],
  );
  const noReason = await callApi(server, queen, 'POST', `/api/platform/organizations/${org.id}/reject`, {});
  t.is(noReason.status, 400, 'rejecting needs a reason the owners will read');
  const approved = await callApi(server, queen, 'POST', `/api/platform/organizations/${org.id}/approve`, {});
  t.is(approved.body!.status, 'active');
  await t.notThrowsAsync(server.app.services.organizations.requireActive(org.id));

  const suspended = await callApi(server, queen, 'POST', `/api/platform/organizations/${org.id}/suspend`, {
    reason: 'unpaid invoices',
  });
  t.is(suspended.body!.status, 'suspended');
  const seenByOwner = await callApi(server, founder, 'GET', `/api/organizations/${org.id}`);
  t.like(seenByOwner.body, { status: 'suspended', status_reason: 'unpaid invoices' });
  const again = await callApi(server, queen, 'POST', `/api/platform/organizations/${org.id}/reject`, { reason: 'x' });
  t.is(again.status, 409);
});
