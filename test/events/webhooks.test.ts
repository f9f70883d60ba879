import test, { type ExecutionContext } from 'ava';
import { Webhook } from 'standardwebhooks';
import { apiToken, callApi } from '../helpers/api.ts';
import { startReceiver } from '../helpers/events.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Hooks may not register teardowns: the file's cleanups run after every test.
const cleanups: (() => unknown)[] = [];
const fileScope = { teardown: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as ExecutionContext;
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const OWNER = 'hooks-owner@example.com';
let server: TestServer;
let owner: string;

test.before(async () => {
  server = await startTestServer(fileScope, {
    env: {
      // The receivers run on loopback: allowed here, refused by default (see webhook-ssrf.test.ts).
      WEBHOOK_PRIVATE_NETWORKS: 'true',
      // The tests drive the dispatcher with tick(); the background pass stays out of the way.
      EVENTS_POLL_MS: '60000',
      WEBHOOK_RETRY_SCHEDULE: '1m,1m,1m,1m',
      WEBHOOK_DISABLE_AFTER: '3',
      PLATFORM_OWNER_EMAIL: 'platform@example.com',
    },
  });
  owner = await apiToken(server, OWNER, ['organizations:read', 'organizations:write']);
});

const tick = () => server.app.services.eventDispatcher.tick();
/** Past the longest retry wait (a minute plus 20% jitter). */
const nextRetry = () => server.clock.advance(90);

let orgs = 0;
async function organizationWithEndpoint(url: string, eventTypes = ['invitation.sent']) {
  orgs += 1;
  const org = await callApi(server, owner, 'POST', '/api/organizations', {
    name: `Hooks ${orgs}`,
    slug: `hooks-${orgs}`,
  });
  const orgId = org.body?.id as string;
  const created = await callApi(server, owner, 'POST', `/api/organizations/${orgId}/webhooks`, {
    url,
    event_types: eventTypes,
  });
  if (created.status !== 201) throw new Error(`registering the webhook answered ${created.status}`);
  return { orgId, endpoint: created.body as { id: string; secret: string } };
}

let invitations = 0;
async function invite(orgId: string) {
  invitations += 1;
  const answer = await callApi(server, owner, 'POST', `/api/organizations/${orgId}/invitations`, {
    email: `invitee-${invitations}@example.com`,
    role: 'member',
  });
  if (answer.status !== 201) throw new Error(`inviting answered ${answer.status}`);
}

test.serial(
  'deliveries carry Standard Webhooks headers whose signature verifies with the endpoint secret, and only the organization’s events',
  async (t) => {
    const receiver = await startReceiver(t);
    const { orgId, endpoint } = await organizationWithEndpoint(receiver.url);
    t.regex(endpoint.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const listed = await callApi(server, owner, 'GET', `/api/organizations/${orgId}/webhooks`);
    t.false(JSON.stringify(listed.body).includes(endpoint.secret), 'the secret is shown once only');

    const other = await organizationWithEndpoint('http://127.0.0.1:9/unused');
    await invite(other.orgId);
    await invite(orgId);
    await tick();
    await receiver.next(1);
    t.is(receiver.received.length, 1, 'another organization’s events are not delivered here');
    const [delivery] = receiver.received;
    const headers = delivery?.headers as Record<string, string>;
    const payload = new Webhook(endpoint.secret).verify(delivery?.body ?? '', headers) as { id: string; type: string };
    t.is(payload.type, 'invitation.sent');
    t.is(headers['webhook-id'], payload.id);
    t.throws(() =>
      new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(delivery?.body ?? '', headers),
    );
    t.throws(() =>
      new Webhook(endpoint.secret).verify(delivery?.body.replace('invitation', 'invitatiom') ?? '', headers),
    );

    // A rotated secret signs the next delivery; the old one no longer verifies it.
    const rotated = await callApi(server, owner, 'POST', `/api/organizations/${orgId}/webhooks/${endpoint.id}/secret`);
    const secret = rotated.body?.secret as string;
    t.not(secret, endpoint.secret);
    await invite(orgId);
    await tick();
    await receiver.next(2);
    const second = receiver.received[1];
    t.truthy(new Webhook(secret).verify(second?.body ?? '', second?.headers as Record<string, string>));
    t.throws(() => new Webhook(endpoint.secret).verify(second?.body ?? '', second?.headers as Record<string, string>));
  },
);

test.serial(
  'a receiver that fails twice and then succeeds gets the same event three times, and the log shows each attempt',
  async (t) => {
    const receiver = await startReceiver(t, (n) => (n <= 2 ? 500 : 204));
    const { orgId, endpoint } = await organizationWithEndpoint(receiver.url);
    await invite(orgId);
    await tick();
    t.is(receiver.received.length, 1);
    await tick();
    t.is(receiver.received.length, 1, 'no retry before its time');
    nextRetry();
    await tick();
    nextRetry();
    await tick();
    t.is(receiver.received.length, 3);
    const ids = receiver.received.map((entry) => entry.headers['webhook-id']);
    t.is(new Set(ids).size, 1);
    t.deepEqual(
      receiver.events().map((event) => event.id),
      [ids[0], ids[0], ids[0]],
    );
    const log = await callApi(server, owner, 'GET', `/api/organizations/${orgId}/webhooks/${endpoint.id}/deliveries`);
    const [delivery] = (log.body?.data ?? []) as {
      status: string;
      attempts: number;
      event_id: string;
      attempt_log: { status_code: number; success: boolean; response_excerpt: string; latency_ms: number }[];
    }[];
    t.like(delivery, { status: 'delivered', attempts: 3, event_id: ids[0] });
    t.deepEqual(
      delivery?.attempt_log.map((attempt) => [attempt.status_code, attempt.success]),
      [
        [500, false],
        [500, false],
        [204, true],
      ],
    );
    t.is(delivery?.attempt_log[0]?.response_excerpt, 'receiver says no');
    nextRetry();
    await tick();
    t.is(receiver.received.length, 3, 'a delivered event is not sent again');
  },
);

test.serial(
  'an endpoint that always fails is disabled after the configured attempts, and its owners are told by email',
  async (t) => {
    const receiver = await startReceiver(t, () => 503);
    const { orgId, endpoint } = await organizationWithEndpoint(receiver.url);
    await invite(orgId);
    await tick();
    nextRetry();
    await tick();
    nextRetry();
    await tick();
    t.is(receiver.received.length, 3);
    const read = await callApi(server, owner, 'GET', `/api/organizations/${orgId}/webhooks/${endpoint.id}`);
    t.like(read.body, { enabled: false, consecutive_failures: 3 });
    t.regex(read.body?.disabled_reason as string, /3 failed deliveries in a row/);
    await invite(orgId);
    nextRetry();
    await tick();
    t.is(receiver.received.length, 3, 'nothing more is sent to a disabled endpoint');
    const mail = (await outboxMessages(server.url)).find(
      (message) => message.to === OWNER && message.subject === 'A webhook endpoint was disabled',
    );
    t.truthy(mail);
    t.true(mail?.text.includes(receiver.url));

    // Enabled again, it starts afresh and gets what is still pending.
    const enabled = await callApi(server, owner, 'PATCH', `/api/organizations/${orgId}/webhooks/${endpoint.id}`, {
      enabled: true,
    });
    t.like(enabled.body, { enabled: true, consecutive_failures: 0, disabled_reason: null });
  },
);

test.serial('redeliver sends a delivered event again with the same id', async (t) => {
  const receiver = await startReceiver(t);
  const { orgId, endpoint } = await organizationWithEndpoint(receiver.url);
  await invite(orgId);
  await tick();
  t.is(receiver.received.length, 1);
  const base = `/api/organizations/${orgId}/webhooks/${endpoint.id}`;
  const [delivery] = ((await callApi(server, owner, 'GET', `${base}/deliveries`)).body?.data ?? []) as { id: string }[];
  const redelivered = await callApi(server, owner, 'POST', `${base}/deliveries/${delivery?.id}/redeliver`);
  t.is(redelivered.status, 202);
  await tick();
  t.is(receiver.received.length, 2);
  t.is(receiver.received[1]?.headers['webhook-id'], receiver.received[0]?.headers['webhook-id']);
  const [after] = ((await callApi(server, owner, 'GET', `${base}/deliveries`)).body?.data ?? []) as {
    status: string;
    attempts: number;
  }[];
  t.like(after, { status: 'delivered', attempts: 2 });
});

test.serial(
  'only owners and admins manage an organization’s webhooks, and only the platform owner the platform’s, which get every event',
  async (t) => {
    const receiver = await startReceiver(t);
    const { orgId } = await organizationWithEndpoint('http://127.0.0.1:9/unused');
    const stranger = await apiToken(server, 'stranger@example.com', ['organizations:write', 'platform:manage']);
    const refused = await callApi(server, stranger, 'POST', `/api/organizations/${orgId}/webhooks`, {
      url: receiver.url,
      event_types: ['*'],
    });
    t.is(refused.status, 404);
    t.is((await callApi(server, stranger, 'GET', `/api/organizations/${orgId}/webhooks`)).status, 404);
    const notOwner = await callApi(server, stranger, 'POST', '/api/platform/webhooks', {
      url: receiver.url,
      event_types: ['*'],
    });
    t.is(notOwner.status, 403);
    t.is(notOwner.body?.error, 'platform_owner_required');

    const platform = await apiToken(server, 'platform@example.com', ['platform:manage']);
    const created = await callApi(server, platform, 'POST', '/api/platform/webhooks', {
      url: receiver.url,
      event_types: ['invitation.sent'],
    });
    t.is(created.status, 201);
    t.is(created.body?.organization_id, null);
    await invite(orgId);
    await tick();
    await receiver.next(1);
    t.is(receiver.events()[0]?.organization_id, orgId);
    const unknownType = await callApi(server, platform, 'POST', '/api/platform/webhooks', {
      url: receiver.url,
      event_types: ['no.such_event'],
    });
    t.is(unknownType.status, 400);
  },
);
