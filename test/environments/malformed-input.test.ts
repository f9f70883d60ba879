import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import {
  createEnvironment,
  ENVIRONMENT_SCOPES,
  environmentStorage,
  machinelessDriver,
  startEnvironmentServer,
} from '../helpers/environments.ts';
import { csrfToken, PageClient } from '../helpers/page-client.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const NASTY: unknown[] = ['a\u0000b', '\ud800', 'x'.repeat(10_000), 5, null, ['test-box'], { $ne: 1 }];

test('malformed input to the environment routes, the phone_home URL and the page forms gets 4xx, never 5xx, and creates nothing', async (t) => {
  // No machine is ever asked for here: every request is refused before the reconciler sees it.
  const server = await startEnvironmentServer(await environmentStorage(t), {
    driver: machinelessDriver(async () => t.fail('create must not be called') as never),
  });
  t.teardown(() => server.stop());
  const token = await apiToken(server, 'fuzz@example.com', ENVIRONMENT_SCOPES);

  for (const value of NASTY) {
    for (const field of ['name', 'template', 'tier', 'region', 'organization_id']) {
      const body = { name: 'Ok', template: 'test-box', [field]: value };
      const answer = await createEnvironment(server, token, body);
      t.true(
        answer.status >= 400 && answer.status < 500,
        `${field}=${JSON.stringify(value)?.slice(0, 40)}: ${answer.status}`,
      );
    }
    for (const field of ['template', 'region', 'organization_id']) {
      const answer = await createEnvironment(server, token, {
        name: 'Ok',
        template: 'test-box',
        [field]: '../../etc/passwd',
      });
      t.true(answer.status >= 400 && answer.status < 500, `${field}: ${answer.status}`);
    }
    const patch = await callApi(server, token, 'PATCH', '/api/environments/00000000-0000-4000-8000-000000000000', {
      name: value,
    });
    t.true(patch.status >= 400 && patch.status < 500, `rename ${patch.status}`);
  }
  for (const key of ['', ' ', 'x'.repeat(300), 'tab\there']) {
    const answer = await fetch(`${server.url}/api/environments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ name: 'Ok', template: 'test-box' }),
    });
    t.is(answer.status, 400, `key ${JSON.stringify(key).slice(0, 20)}`);
  }
  const huge = await fetch(`${server.url}/api/environments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'k' },
    body: JSON.stringify({ name: 'x'.repeat(200_000) }),
  });
  t.is(huge.status, 413);
  for (const path of ['/api/environments/not-a-uuid', '/api/environments/%00', '/api/environments/%ED%A0%80']) {
    const answer = await callApi(server, token, 'GET', path);
    t.true(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status}`);
  }

  for (const [path, body] of [
    ['/environments/phone-home/short', 'instance_id=1'],
    [`/environments/phone-home/${'a'.repeat(43)}`, 'pub_key_ed25519=%00%FF&hostname=\u0000'],
    [`/environments/phone-home/${'a'.repeat(43)}%00`, ''],
    [`/environments/phone-home/${'b'.repeat(43)}`, 'x='.padEnd(40_000, 'y')],
  ] as const) {
    const answer = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    t.true(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status}`);
  }

  const browser = new PageClient(server.url);
  const start = await browser.request('/account/environments');
  const { html } = await signInThroughPages(server.url, start.headers.get('location')!, 'fuzz@example.com', {
    client: browser,
  });
  const csrf = csrfToken(html);
  for (const value of ['a\u0000b', '\ud800', 'x'.repeat(5000), '']) {
    for (const field of ['name', 'template', 'tier', 'owner', 'idempotency_key']) {
      // Paid by an organization that does not exist: even a form that passes every field check creates nothing.
      const form = {
        _csrf: csrf,
        name: 'Ok',
        template: 'test-box',
        owner: '00000000-0000-4000-8000-000000000000',
        idempotency_key: 'page-key',
        [field]: value,
      };
      const answer = await browser.request('/account/environments', { form });
      t.true(answer.status < 500, `page ${field}: ${answer.status}`);
    }
  }
  for (const path of ['/account/environments/%00/start', '/account/environments/x/delete']) {
    const answer = await browser.request(path, { form: { _csrf: csrf } });
    t.true(answer.status < 500, `${path}: ${answer.status}`);
  }
  const count = await server.app.services.db
    .selectFrom('environments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  t.is(Number(count.n), 0);
});
