import test from 'ava';
import { submitForm } from '../helpers/account-pages.ts';
import { startTestServer } from '../helpers/server.ts';
import { keyStates } from '../../src/platform-console/key-retirement.ts';
import { accountWithApp, signInWithApp } from './console-owner.ts';

const QUEEN = 'queen@example.com';

test('a key is signing while newest, waits after its successor for the wait, then may be retired', (t) => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 11, 7, 8, 0, seconds));
  const rows = [
    { kid: 'rs-3', alg: 'RS256', created_at: at(50), retired_at: null },
    { kid: 'es-2', alg: 'ES256', created_at: at(40), retired_at: null },
    { kid: 'rs-2', alg: 'RS256', created_at: at(20), retired_at: null },
    { kid: 'rs-1', alg: 'RS256', created_at: at(10), retired_at: null },
    { kid: 'es-1', alg: 'ES256', created_at: at(5), retired_at: at(30) },
  ];
  const states = (now: number) =>
    Object.fromEntries(keyStates(rows, 30, at(now).getTime()).map((key) => [key.kid, key.state]));
  t.deepEqual(states(49), {
    'rs-3': 'signing',
    'es-2': 'signing',
    'rs-2': 'waiting',
    'rs-1': 'waiting',
    'es-1': 'retired',
  });
  // rs-1 was superseded by rs-2 (the oldest newer key), not by rs-3: it may go 30 s after rs-2 came.
  t.is(states(50)['rs-1'], 'retirable');
  t.is(states(79)['rs-2'], 'waiting');
  t.is(states(80)['rs-2'], 'retirable');
  const rs1 = keyStates(rows, 30, at(0).getTime()).find((key) => key.kid === 'rs-1');
  t.deepEqual(rs1?.supersededAt, at(20));
  t.deepEqual(rs1?.retirableAt, at(50));
});

test('the console retires a superseded key only after the longest token lifetime, and never the signing one', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: QUEEN } });
  const { id, app } = await accountWithApp(server, QUEEN);
  const { client } = await signInWithApp(server, '/account', QUEEN, app);
  const { keys } = server.app.services;
  const old = await keys.list();
  let page = await (await client.request('/platform/keys')).text();

  const rotated = await submitForm(client, page, '/platform/keys/rotate');
  t.is(rotated.response.headers.get('location'), '/platform/keys?done=keys_rotated');
  const fresh = (await keys.list()).filter((key) => !old.some((before) => before.kid === key.kid));
  t.is(fresh.length, old.length);

  page = await (await client.request('/platform/keys')).text();
  const early = await submitForm(client, page, '/platform/keys/retire', { kid: old[0]!.kid });
  t.is(early.response.headers.get('location'), '/platform/keys?failed=key_retirement_too_early');
  t.regex(await (await client.request(early.response.headers.get('location')!)).text(), /may still be in use/);
  const inUse = await submitForm(client, page, '/platform/keys/retire', { kid: fresh[0]!.kid });
  t.is(inUse.response.headers.get('location'), '/platform/keys?failed=key_in_use');
  const unknown = await submitForm(client, page, '/platform/keys/retire', { kid: 'no-such-key' });
  t.is(unknown.response.headers.get('location'), '/platform/keys?failed=key_not_found');
  t.true(
    (await keys.list()).every((key) => key.retired_at === null),
    'nothing was retired',
  );

  const { config } = server.app;
  const wait = Math.max(config.ttl.idToken, config.ttl.accessToken) + config.keysRefreshSeconds;
  server.clock.advance(wait - 60);
  const stillEarly = await submitForm(client, page, '/platform/keys/retire', { kid: old[0]!.kid });
  t.is(stillEarly.response.headers.get('location'), '/platform/keys?failed=key_retirement_too_early');
  server.clock.advance(61);
  const retired = await submitForm(client, page, '/platform/keys/retire', { kid: old[0]!.kid });
  t.is(retired.response.headers.get('location'), '/platform/keys?done=key_retired');
  const again = await submitForm(client, page, '/platform/keys/retire', { kid: old[0]!.kid });
  t.is(again.response.headers.get('location'), '/platform/keys?failed=key_retired');
  t.deepEqual(
    (await keys.list()).filter((key) => key.retired_at).map((key) => key.kid),
    [old[0]!.kid],
  );

  const trail = await server.app.services.audit.recentFor(id);
  t.like(trail.find((event) => event.event === 'signing_key_retired')?.detail, {
    kid: old[0]!.kid,
    via: 'platform_console',
  });
  t.deepEqual(
    [...((trail.find((event) => event.event === 'signing_keys_rotated')?.detail?.kids as string[]) ?? [])].sort(),
    fresh.map((key) => key.kid).sort(),
  );
});

test('malformed console input gets an answer, never a 5xx', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: QUEEN } });
  const { app } = await accountWithApp(server, QUEEN);
  const { client } = await signInWithApp(server, '/account', QUEEN, app);
  const page = await (await client.request('/platform/keys')).text();
  const junk = [
    '',
    ' ',
    'x'.repeat(5000),
    '%',
    '\\',
    "'; drop table accounts; --",
    '9999-99-99',
    '0000-01-01',
    '../..',
  ];
  for (const value of junk) {
    const query = encodeURIComponent(value);
    for (const path of [
      `/platform/organizations?status=${query}&cursor=${query}`,
      `/platform/accounts?q=${query}`,
      `/platform/accounts/${query || 'x'}`,
      `/platform/clients/${query || 'x'}`,
      `/platform/audit?account=${query}&organization=${query}&type=${query}&from=${query}&to=${query}&cursor=${query}`,
      `/platform/audit?from=${query}`,
    ]) {
      const response = await client.request(path);
      t.true(response.status < 500, `GET ${path.slice(0, 80)} answered ${response.status}`);
    }
    for (const action of [
      `/platform/organizations/${query || 'x'}/approve`,
      `/platform/organizations/${query || 'x'}/suspend`,
      `/platform/accounts/${query || 'x'}/suspend`,
      `/platform/accounts/${query || 'x'}/reactivate`,
      '/platform/keys/retire',
    ]) {
      const { response } = await submitForm(client, page, action, { reason: value, kid: value, status: value });
      t.true(response.status < 500, `POST ${action.slice(0, 80)} answered ${response.status}`);
    }
  }
});
