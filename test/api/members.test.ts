import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { invitationLink, joinByInvitation } from '../helpers/organizations.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SCOPES = ['account:read', 'organizations:read', 'organizations:write'];

type Member = {
  account_id: string;
  email: string | null;
  fairyname: string;
  name: string | null;
  role: string;
  joined_at: string;
};
type OrgEvent = {
  id: string;
  actor_id: string | null;
  action: string;
  subject_id: string | null;
  details: Record<string, unknown>;
  created_at: string;
};

/** An organization whose founder (its only owner) is owner@example.com. */
async function organization(server: TestServer) {
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const created = await callApi(server, owner, 'POST', '/api/organizations', {
    name: 'Toadstool Guild',
    slug: 'toadstool',
  });
  if (created.status !== 201) throw new Error(`creating the organization answered ${created.status}`);
  const me = await callApi(server, owner, 'GET', '/api/me');
  return { owner, ownerId: me.body!.id as string, org: created.body! as { id: string } };
}

/** Someone who joined by invitation with `role`, with an API token of their own. */
async function member(server: TestServer, ownerToken: string, orgId: string, email: string, role: string) {
  const { accountId } = await joinByInvitation(server, ownerToken, orgId, email, role);
  return { id: accountId, token: await apiToken(server, email, SCOPES) };
}

async function members(server: TestServer, token: string, orgId: string): Promise<Member[]> {
  const listed = await callApi(server, token, 'GET', `/api/organizations/${orgId}/members?limit=100`);
  if (listed.status !== 200) throw new Error(`listing members answered ${listed.status}`);
  return listed.body!.data as Member[];
}

/** email → role, for comparing who is in the organization as what. */
async function roles(server: TestServer, token: string, orgId: string) {
  return Object.fromEntries((await members(server, token, orgId)).map((row) => [row.email, row.role]));
}

async function events(server: TestServer, token: string, orgId: string): Promise<OrgEvent[]> {
  const listed = await callApi(server, token, 'GET', `/api/organizations/${orgId}/events?limit=100`);
  if (listed.status !== 200) throw new Error(`listing events answered ${listed.status}`);
  return listed.body!.data as OrgEvent[];
}

/** Events of one kind, as the fields a person would check: who did it, to whom, and the details. */
async function eventsOf(server: TestServer, token: string, orgId: string, action: string) {
  return (await events(server, token, orgId))
    .filter((event) => event.action === action)
    .map(({ actor_id, subject_id, details }) => ({ actor_id, subject_id, details }));
}

/** JSON with object keys sorted, so that equal values sort alike whatever order their keys came in. */
const canonical = (value: unknown) =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

test('members are listed with their roles, and the owner makes a member admin', async (t) => {
  const server = await startTestServer(t);
  const { owner, ownerId, org } = await organization(server);
  const alice = await member(server, owner, org.id, 'alice@example.com', 'member');

  const listed = await members(server, alice.token, org.id);
  t.deepEqual(
    listed.map((row) => [row.account_id, row.email, row.role]),
    [
      [ownerId, 'owner@example.com', 'owner'],
      [alice.id, 'alice@example.com', 'member'],
    ],
    'every member, even a plain member, sees who is in it, oldest first',
  );
  for (const row of listed) {
    t.regex(row.fairyname, /^[a-z]+_[a-z]+_\d{4}$/);
    t.false(Number.isNaN(Date.parse(row.joined_at)), 'joined_at is a timestamp');
  }

  const promoted = await callApi(server, owner, 'PATCH', `/api/organizations/${org.id}/members/${alice.id}`, {
    role: 'admin',
  });
  t.is(promoted.status, 204);
  t.is(promoted.body, undefined, '204 has no body');
  t.deepEqual(await roles(server, owner, org.id), { 'owner@example.com': 'owner', 'alice@example.com': 'admin' });
  const seenByAlice = await callApi(server, alice.token, 'GET', `/api/organizations/${org.id}`);
  t.is(seenByAlice.body!.role, 'admin', 'the new role is hers at once');
  t.deepEqual(await eventsOf(server, owner, org.id, 'member.role_changed'), [
    { actor_id: ownerId, subject_id: alice.id, details: { from: 'member', to: 'admin' } },
  ]);

  const badRole = await callApi(server, owner, 'PATCH', `/api/organizations/${org.id}/members/${alice.id}`, {
    role: 'queen',
  });
  t.is(badRole.status, 400);
  t.is(badRole.body!.error, 'invalid_request');
  const nobody = await callApi(server, owner, 'PATCH', `/api/organizations/${org.id}/members/no-such-account`, {
    role: 'admin',
  });
  t.is(nobody.status, 404);
  t.is(nobody.body!.error, 'member_not_found');
  t.deepEqual(await roles(server, owner, org.id), { 'owner@example.com': 'owner', 'alice@example.com': 'admin' });
});

test('an admin can neither demote nor remove an owner, nor make anyone owner', async (t) => {
  const server = await startTestServer(t);
  const { owner, ownerId, org } = await organization(server);
  const admin = await member(server, owner, org.id, 'admin@example.com', 'admin');
  const plain = await member(server, owner, org.id, 'plain@example.com', 'member');
  const before = await roles(server, owner, org.id);
  const eventsBefore = await events(server, owner, org.id);

  const attempts = [
    ['demote the owner', 'PATCH', `/api/organizations/${org.id}/members/${ownerId}`, { role: 'admin' }],
    ['remove the owner', 'DELETE', `/api/organizations/${org.id}/members/${ownerId}`, undefined],
    ['make a member owner', 'PATCH', `/api/organizations/${org.id}/members/${plain.id}`, { role: 'owner' }],
    ['make themselves owner', 'PATCH', `/api/organizations/${org.id}/members/${admin.id}`, { role: 'owner' }],
    [
      'invite an owner',
      'POST',
      `/api/organizations/${org.id}/invitations`,
      { email: 'crown@example.com', role: 'owner' },
    ],
  ] as const;
  for (const [what, method, path, body] of attempts) {
    const refused = await callApi(server, admin.token, method, path, body);
    t.is(refused.status, 403, what);
    t.is(refused.body?.error, 'owner_required', what);
  }
  t.deepEqual(await roles(server, owner, org.id), before, 'nobody’s role changed');
  t.deepEqual(await events(server, owner, org.id), eventsBefore, 'refusals leave no trail');

  // The refusals are about owners, not about admin rights in general.
  t.is(
    (
      await callApi(server, admin.token, 'PATCH', `/api/organizations/${org.id}/members/${plain.id}`, {
        role: 'billing',
      })
    ).status,
    204,
  );
  t.is((await callApi(server, admin.token, 'DELETE', `/api/organizations/${org.id}/members/${plain.id}`)).status, 204);
  t.deepEqual(await roles(server, owner, org.id), { 'owner@example.com': 'owner', 'admin@example.com': 'admin' });
  t.deepEqual(await eventsOf(server, owner, org.id, 'member.removed'), [
    { actor_id: admin.id, subject_id: plain.id, details: { role: 'billing' } },
  ]);
});

test('the last owner can neither leave nor be demoted, until there is another owner', async (t) => {
  const server = await startTestServer(t);
  const { owner, ownerId, org } = await organization(server);
  const heir = await member(server, owner, org.id, 'heir@example.com', 'admin');
  const self = `/api/organizations/${org.id}/members/${ownerId}`;

  const leave = await callApi(server, owner, 'DELETE', self);
  t.is(leave.status, 409);
  t.is(leave.body!.error, 'last_owner');
  const demote = await callApi(server, owner, 'PATCH', self, { role: 'admin' });
  t.is(demote.status, 409);
  t.is(demote.body!.error, 'last_owner');
  t.deepEqual(await roles(server, owner, org.id), { 'owner@example.com': 'owner', 'heir@example.com': 'admin' });

  t.is(
    (await callApi(server, owner, 'PATCH', `/api/organizations/${org.id}/members/${heir.id}`, { role: 'owner' }))
      .status,
    204,
  );
  t.is(
    (await callApi(server, owner, 'PATCH', self, { role: 'admin' })).status,
    204,
    'with a second owner, the founder may step down',
  );
  t.deepEqual(await roles(server, heir.token, org.id), { 'owner@example.com': 'admin', 'heir@example.com': 'owner' });

  // Now the heir is the last owner, and the same rule holds for them.
  const heirLeaves = await callApi(server, heir.token, 'DELETE', `/api/organizations/${org.id}/members/${heir.id}`);
  t.is(heirLeaves.status, 409);
  t.is(heirLeaves.body!.error, 'last_owner');

  t.is((await callApi(server, heir.token, 'PATCH', self, { role: 'owner' })).status, 204);
  const founderLeaves = await callApi(server, owner, 'DELETE', self);
  t.is(founderLeaves.status, 204, 'an owner may leave while another owner stays');
  t.deepEqual(await roles(server, heir.token, org.id), { 'heir@example.com': 'owner' });
  const gone = await callApi(server, owner, 'GET', `/api/organizations/${org.id}`);
  t.is(gone.status, 404);
  t.is(gone.body!.error, 'organization_not_found');

  t.deepEqual(await eventsOf(server, heir.token, org.id, 'member.role_changed'), [
    { actor_id: ownerId, subject_id: heir.id, details: { from: 'admin', to: 'owner' } },
    { actor_id: ownerId, subject_id: ownerId, details: { from: 'owner', to: 'admin' } },
    { actor_id: heir.id, subject_id: ownerId, details: { from: 'admin', to: 'owner' } },
  ]);
  t.deepEqual(await eventsOf(server, heir.token, org.id, 'member.left'), [
    { actor_id: ownerId, subject_id: ownerId, details: { role: 'owner' } },
  ]);
});

test('a member may leave on their own, but cannot change or remove anyone else', async (t) => {
  const server = await startTestServer(t);
  const { owner, ownerId, org } = await organization(server);
  const carol = await member(server, owner, org.id, 'carol@example.com', 'member');
  const dave = await member(server, owner, org.id, 'dave@example.com', 'member');
  const before = await roles(server, owner, org.id);
  const eventsBefore = await events(server, owner, org.id);

  const attempts = [
    ['promote another member', 'PATCH', `/api/organizations/${org.id}/members/${dave.id}`, { role: 'admin' }],
    ['promote themselves', 'PATCH', `/api/organizations/${org.id}/members/${carol.id}`, { role: 'admin' }],
    ['demote the owner', 'PATCH', `/api/organizations/${org.id}/members/${ownerId}`, { role: 'member' }],
    ['remove another member', 'DELETE', `/api/organizations/${org.id}/members/${dave.id}`, undefined],
    ['remove the owner', 'DELETE', `/api/organizations/${org.id}/members/${ownerId}`, undefined],
    ['rename the organization', 'PATCH', `/api/organizations/${org.id}`, { name: 'Carol’s Club' }],
    ['invite someone', 'POST', `/api/organizations/${org.id}/invitations`, { email: 'friend@example.com' }],
  ] as const;
  for (const [what, method, path, body] of attempts) {
    const refused = await callApi(server, carol.token, method, path, body);
    t.is(refused.status, 403, what);
    t.is(refused.body?.error, 'forbidden', what);
  }
  t.deepEqual(await roles(server, owner, org.id), before, 'nobody’s role changed');
  t.deepEqual(await events(server, owner, org.id), eventsBefore, 'refusals leave no trail');

  const left = await callApi(server, carol.token, 'DELETE', `/api/organizations/${org.id}/members/${carol.id}`);
  t.is(left.status, 204);
  t.deepEqual(await roles(server, owner, org.id), { 'owner@example.com': 'owner', 'dave@example.com': 'member' });
  const afterwards = await callApi(server, carol.token, 'GET', `/api/organizations/${org.id}`);
  t.is(afterwards.status, 404, 'once gone, the organization is not hers to see');
  t.deepEqual((await callApi(server, carol.token, 'GET', '/api/me')).body!.memberships, []);
  t.deepEqual(await eventsOf(server, owner, org.id, 'member.left'), [
    { actor_id: carol.id, subject_id: carol.id, details: { role: 'member' } },
  ]);
});

test('every change appears in the event trail, which owners and admins read and members do not', async (t) => {
  const server = await startTestServer(t);
  const { owner, ownerId, org } = await organization(server);
  const admin = await member(server, owner, org.id, 'admin@example.com', 'admin');
  const erin = await member(server, owner, org.id, 'erin@example.com', 'member');
  const frank = await member(server, owner, org.id, 'frank@example.com', 'member');

  t.is(
    (await callApi(server, owner, 'PATCH', `/api/organizations/${org.id}`, { name: 'Toadstool Guild of the North' }))
      .status,
    200,
  );
  t.is(
    (
      await callApi(server, admin.token, 'PATCH', `/api/organizations/${org.id}/members/${erin.id}`, {
        role: 'billing',
      })
    ).status,
    204,
  );
  t.is((await callApi(server, admin.token, 'DELETE', `/api/organizations/${org.id}/members/${frank.id}`)).status, 204);
  t.is((await callApi(server, erin.token, 'DELETE', `/api/organizations/${org.id}/members/${erin.id}`)).status, 204);

  const trail = await events(server, owner, org.id);
  t.deepEqual(await events(server, admin.token, org.id), trail, 'an admin reads the same trail');
  const summary = (event: OrgEvent) => [event.action, event.actor_id, event.subject_id, event.details] as const;
  // Sorted: events of separate requests can share a millisecond, so their order is not the point here.
  const byText = (a: readonly unknown[], b: readonly unknown[]) => canonical(a).localeCompare(canonical(b));
  t.deepEqual(
    trail.map(summary).sort(byText),
    [
      ['organization.created', ownerId, null, { name: 'Toadstool Guild', slug: 'toadstool', status: 'pending' }],
      ['invitation.created', ownerId, null, { email: 'admin@example.com', role: 'admin' }],
      ['member.joined', admin.id, admin.id, { role: 'admin', invited_by: ownerId }],
      ['invitation.created', ownerId, null, { email: 'erin@example.com', role: 'member' }],
      ['member.joined', erin.id, erin.id, { role: 'member', invited_by: ownerId }],
      ['invitation.created', ownerId, null, { email: 'frank@example.com', role: 'member' }],
      ['member.joined', frank.id, frank.id, { role: 'member', invited_by: ownerId }],
      ['organization.updated', ownerId, null, { name: 'Toadstool Guild of the North' }],
      ['member.role_changed', admin.id, erin.id, { from: 'member', to: 'billing' }],
      ['member.removed', admin.id, frank.id, { role: 'member' }],
      ['member.left', erin.id, erin.id, { role: 'billing' }],
    ].sort(byText),
  );
  for (const event of trail) t.false(Number.isNaN(Date.parse(event.created_at)), `${event.action} has a timestamp`);

  const eve = await member(server, owner, org.id, 'eve@example.com', 'member');
  const refused = await callApi(server, eve.token, 'GET', `/api/organizations/${org.id}/events`);
  t.is(refused.status, 403);
  t.is(refused.body!.error, 'forbidden');
  const billing = await member(server, owner, org.id, 'ledger@example.com', 'billing');
  t.is(
    (await callApi(server, billing.token, 'GET', `/api/organizations/${org.id}/events`)).status,
    403,
    'billing members do not read it either',
  );
});

test('only an owner deletes the organization, and afterwards it is gone for everyone', async (t) => {
  const server = await startTestServer(t);
  const { owner, ownerId, org } = await organization(server);
  const admin = await member(server, owner, org.id, 'admin@example.com', 'admin');
  const plain = await member(server, owner, org.id, 'plain@example.com', 'member');
  t.is(
    (await callApi(server, owner, 'POST', `/api/organizations/${org.id}/invitations`, { email: 'late@example.com' }))
      .status,
    201,
  );
  const pendingLink = await invitationLink(server, 'late@example.com');

  for (const [who, token] of [
    ['admin', admin.token],
    ['member', plain.token],
  ] as const) {
    const refused = await callApi(server, token, 'DELETE', `/api/organizations/${org.id}`);
    t.is(refused.status, 403, who);
    t.is(refused.body!.error, 'forbidden', who);
  }
  t.is(
    (await callApi(server, owner, 'GET', `/api/organizations/${org.id}`)).status,
    200,
    'still there after the refusals',
  );

  const deleted = await callApi(server, owner, 'DELETE', `/api/organizations/${org.id}`);
  t.is(deleted.status, 204);

  for (const [who, token] of [
    ['owner', owner],
    ['admin', admin.token],
    ['member', plain.token],
  ] as const) {
    for (const path of [
      `/api/organizations/${org.id}`,
      `/api/organizations/${org.id}/members`,
      `/api/organizations/${org.id}/events`,
    ]) {
      const gone = await callApi(server, token, 'GET', path);
      t.is(gone.status, 404, `${who}: GET ${path}`);
      t.is(gone.body!.error, 'organization_not_found', `${who}: GET ${path}`);
    }
    t.deepEqual(
      (await callApi(server, token, 'GET', '/api/organizations')).body!.data,
      [],
      `${who}: not in their list`,
    );
    t.deepEqual((await callApi(server, token, 'GET', '/api/me')).body!.memberships, [], `${who}: no membership left`);
  }
  const again = await callApi(server, owner, 'DELETE', `/api/organizations/${org.id}`);
  t.is(again.status, 404, 'deleting twice finds nothing');

  const link = await fetch(pendingLink);
  t.is(link.status, 404, 'an open invitation died with its organization');
  t.regex(await link.text(), /not valid/);

  // The trail outlives the organization (it is kept for the record), ending with the deletion.
  const kept = await server.app.services.db
    .selectFrom('organization_events')
    .select(['action', 'actor_id'])
    .where('organization_id', '=', org.id)
    .where('action', '=', 'organization.deleted')
    .execute();
  t.deepEqual(kept, [{ action: 'organization.deleted', actor_id: ownerId }]);
});
