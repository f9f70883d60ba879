import test from 'ava';
import { loadConfig } from '../../src/config.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { startReceiver } from '../helpers/events.ts';
import { persistedServers, startTestServer } from '../helpers/server.ts';

const SCOPES = ['organizations:read', 'organizations:write'];

test('webhook URLs that are or resolve to loopback, private or link-local addresses are refused at registration', async (t) => {
  // Test mode refuses them as production does; only WEBHOOK_PRIVATE_NETWORKS (or development) allows them.
  const server = await startTestServer(t);
  const owner = await apiToken(server, 'ssrf@example.com', SCOPES);
  const orgId = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'SSRF', slug: 'ssrf' })).body
    ?.id as string;
  const base = `/api/organizations/${orgId}/webhooks`;
  for (const url of [
    'http://127.0.0.1:8080/hook',
    'http://localhost:8080/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://10.1.2.3/hook',
    'http://172.20.0.1/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/hook',
    'http://0.0.0.0/hook',
  ]) {
    const answer = await callApi(server, owner, 'POST', base, { url, event_types: ['*'] });
    t.is(answer.status, 400, url);
    t.is(answer.body?.error, 'invalid_webhook_url', url);
  }
  const localhost = await callApi(server, owner, 'POST', base, { url: 'http://localhost:8080/', event_types: ['*'] });
  t.regex(localhost.body?.error_description as string, /localhost resolves to (127\.0\.0\.1|::1), a loopback/);
  for (const url of ['ftp://example.com/hook', 'https://user:pw@example.com/hook', 'not a url'])
    t.is((await callApi(server, owner, 'POST', base, { url, event_types: ['*'] })).status, 400, url);
});

test('production refuses private webhook addresses unless WEBHOOK_PRIVATE_NETWORKS says otherwise; development allows them', (t) => {
  const production = {
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.com',
    KEYS_SECRET: 'a-production-secret-of-enough-length-0123456789',
    COOKIE_KEYS: 'a-production-cookie-key-of-enough-length-0123456789',
    SMTP_URL: 'smtp://mail.example.com:587',
  };
  t.false(loadConfig(production).events.webhooks.privateNetworks);
  t.true(loadConfig({ ...production, WEBHOOK_PRIVATE_NETWORKS: 'true' }).events.webhooks.privateNetworks);
  t.true(loadConfig({ NODE_ENV: 'development' }).events.webhooks.privateNetworks);
  t.false(loadConfig({ NODE_ENV: 'test' }).events.webhooks.privateNetworks);
  t.deepEqual(
    loadConfig({ NODE_ENV: 'test', WEBHOOK_RETRY_SCHEDULE: '5s,2m,1h,1d' }).events.webhooks.retryScheduleMs,
    [5000, 120_000, 3_600_000, 86_400_000],
  );
  t.throws(() => loadConfig({ NODE_ENV: 'test', WEBHOOK_RETRY_SCHEDULE: '5s,soon' }), {
    message: /WEBHOOK_RETRY_SCHEDULE/,
  });
});

test('an endpoint whose name resolves to 127.0.0.1 is refused at delivery time too, against the resolved address', async (t) => {
  const receiver = await startReceiver(t);
  const servers = await persistedServers(t, { EVENTS_POLL_MS: '60000' });
  // Registered while private networks were allowed (as an operator might have, then turned it off).
  const first = await servers.start({ WEBHOOK_PRIVATE_NETWORKS: 'true' });
  const port = Number(new URL(first.url).port);
  const owner = await apiToken(first, 'rebind@example.com', SCOPES);
  const orgId = (await callApi(first, owner, 'POST', '/api/organizations', { name: 'Rebind', slug: 'rebind' })).body
    ?.id as string;
  const hook = await callApi(first, owner, 'POST', `/api/organizations/${orgId}/webhooks`, {
    url: `http://localhost:${receiver.port}/hook`,
    event_types: ['invitation.sent'],
  });
  t.is(hook.status, 201);

  const second = await servers.start({}, { port });
  const invited = await callApi(second, owner, 'POST', `/api/organizations/${orgId}/invitations`, {
    email: 'someone@example.com',
    role: 'member',
  });
  t.is(invited.status, 201);
  await second.app.services.eventDispatcher.tick();
  t.is(receiver.received.length, 0, 'nothing reached the loopback receiver');
  const log = await callApi(second, owner, 'GET', `/api/organizations/${orgId}/webhooks/${hook.body?.id}/deliveries`);
  const [delivery] = (log.body?.data ?? []) as { status: string; attempt_log: { success: boolean; error: string }[] }[];
  t.is(delivery?.status, 'pending', 'refused like any failure: retried later');
  t.false(delivery?.attempt_log[0]?.success);
  t.regex(
    delivery?.attempt_log[0]?.error ?? '',
    /localhost resolves to (127\.0\.0\.1|::1), a loopback, private or link-local/,
  );
});
