import { randomUUID } from 'node:crypto';
import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const DUST = ['dust:read', 'dust:spend', 'dust:manage'];

/** `key: null` sends no Idempotency-Key. */
async function charge(
  server: TestServer,
  token: string,
  body: Record<string, unknown>,
  key: string | null = randomUUID(),
) {
  const send = () =>
    fetch(`${server.url}/api/dust/charges`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify(body),
    });
  let response = await send();
  // A busy machine may run out of database connections during a burst: the server says 503, and a
  // client tries again with the same idempotency key, as real ones do.
  while (response.status === 503 && key) {
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after')) * 1000));
    response = await send();
  }
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed'),
    body: (await response.json()) as Record<string, any>,
  };
}

/** A client-credentials token of the app itself. */
async function clientToken(server: TestServer, app: { clientId: string; clientSecret?: string | undefined }) {
  const response = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'dust:spend' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const balance = async (server: TestServer, token: string, query = '') =>
  (await callApi(server, token, 'GET', `/api/dust/balance${query}`)).body!.balance as number;

test('every new account gets 25 DUST, once', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'new@example.com', DUST);
  t.is(await balance(server, token), 25);
  const again = await apiToken(server, 'new@example.com', DUST);
  t.is(await balance(server, again), 25, 'signing in again grants nothing');
  t.is(await server.app.services.ledger.grantMissingSignups(), 0);
  const history = await callApi(server, token, 'GET', '/api/dust/transactions');
  t.deepEqual(
    history.body!.data.map((entry: { kind: string; amount: number }) => [entry.kind, entry.amount]),
    [['signup_grant', 25]],
  );
});

test('accounts created before the ledger get their 25 DUST at startup, exactly once', async (t) => {
  const server = await startTestServer(t);
  await server.app.services.db
    .insertInto('accounts')
    .values([
      { id: 'old-1', email: 'old1@example.com', fairyname: 'old_one_0001' },
      { id: 'old-2', email: 'old2@example.com', fairyname: 'old_two_0002' },
    ])
    .execute();
  t.is(await server.app.services.ledger.grantMissingSignups(), 2);
  t.is(await server.app.services.ledger.grantMissingSignups(), 0);
  t.is(await server.app.services.ledger.balance('person', 'old-1'), 25);
});

test('a charge with the person’s token moves DUST to the app, and its key replays it', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'spender@example.com', DUST);
  const key = randomUUID();
  const first = await charge(server, token, { amount: 10, description: 'A magic bean' }, key);
  t.is(first.status, 201);
  t.is(first.body.amount, 10);
  t.is(await balance(server, token), 15);

  const replay = await charge(server, token, { amount: 10, description: 'A magic bean' }, key);
  t.is(replay.status, 201);
  t.is(replay.replayed, 'true');
  t.is(replay.body.id, first.body.id);
  t.is(await balance(server, token), 15, 'the replay moved nothing');

  const conflict = await charge(server, token, { amount: 11, description: 'A magic bean' }, key);
  t.is(conflict.status, 409);
  t.is(conflict.body.error, 'idempotency_key_reused');
  const keyless = await charge(server, token, { amount: 1, description: 'x' }, null);
  t.is(keyless.status, 400);
  t.is(keyless.body.error, 'idempotency_key_required');

  const broke = await charge(server, token, { amount: 16, description: 'Too much' });
  t.is(broke.status, 402);
  t.is(broke.body.error, 'insufficient_funds');
  t.is(await balance(server, token), 15, 'a refused charge books nothing');
});

test('1,000 concurrent charges against 25 DUST: exactly 25 succeed and the balance ends at zero', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'rush@example.com', DUST);
  const results = await Promise.all(
    Array.from({ length: 1000 }, () => charge(server, token, { amount: 1, description: 'rush' })),
  );
  const statuses = results.map((result) => result.status);
  t.is(statuses.filter((status) => status === 201).length, 25);
  t.is(statuses.filter((status) => status === 402).length, 975);
  t.is(await balance(server, token), 0);
  const verified = await server.app.services.ledger.verify();
  t.deepEqual(verified, { unbalancedTransactions: [], walletsOutOfBalance: [] });
});

test('only the charging app refunds, with its own token, never more than it charged', async (t) => {
  const server = await startTestServer(t);
  const app = await registerClient(server.app, {
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
  });
  const charged = await apiToken(server, 'charged@example.com', DUST, app);
  const bystander = await apiToken(server, 'bystander@example.com', DUST, app);
  const { body: made } = await charge(server, charged, { amount: 8, description: 'Potion' });
  const refund = async (as: string, amount?: number) => {
    const response = await fetch(`${server.url}/api/dust/charges/${made.id}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(amount === undefined ? {} : { amount }),
    });
    return { status: response.status, error: ((await response.json()) as { error?: string }).error };
  };

  t.deepEqual(
    await refund(bystander, 3),
    { status: 403, error: 'client_token_required' },
    'another person’s token for the charging app cannot refund someone else’s charge',
  );
  t.deepEqual(
    await refund(charged, 3),
    { status: 403, error: 'client_token_required' },
    'nor can the charged person’s own token for that app: in a public client it is in their hands',
  );
  const other = await registerClient(server.app, { grantTypes: ['client_credentials'] });
  t.is((await refund(await clientToken(server, other), 3)).status, 404, 'another app cannot refund this charge');

  const appToken = await clientToken(server, app);
  t.is((await refund(appToken, 3)).status, 201);
  t.is((await refund(appToken, 6)).status, 409, 'refunds cannot exceed the charge');
  t.is((await refund(appToken)).status, 201, 'the rest');
  t.is(await balance(server, charged), 25);
  t.is((await refund(appToken, 1)).status, 409);
});

test('a client-credentials app charges only if approved, and only within the person’s allowance', async (t) => {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const person = await apiToken(server, 'payer@example.com', [...DUST, 'account:read']);
  const { body: me } = await callApi(server, person, 'GET', '/api/me');
  const owner = await apiToken(server, 'maker@example.com', ['organizations:write', 'organizations:read']);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Apps', slug: 'apps' })).body!;
  const app = (
    await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
      client_name: 'Game',
      grant_types: ['client_credentials'],
      scope: 'dust:spend',
    })
  ).body!;
  const tokenResponse = await fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'dust:spend' }),
  });
  const appToken = ((await tokenResponse.json()) as { access_token: string }).access_token;

  const noAllowance = await charge(server, appToken, { amount: 5, description: 'Level', account_id: me!.id });
  t.is(noAllowance.status, 403);
  t.is(noAllowance.body.error, 'allowance_exceeded');
  const set = await callApi(server, person, 'PUT', `/api/dust/allowances/${app.client_id}`, { amount: 10 });
  t.is(set.status, 200);
  t.is((await charge(server, appToken, { amount: 6, description: 'Level', account_id: me!.id })).status, 201);
  const over = await charge(server, appToken, { amount: 5, description: 'Level', account_id: me!.id });
  t.is(over.status, 403, 'only 4 of the allowance is left');
  t.is(await balance(server, person), 19);

  const missing = await charge(server, appToken, { amount: 1, description: 'Level' });
  t.is(missing.status, 400);
});

test('DUST moves between a person and an organization by permission', async (t) => {
  const server = await startTestServer(t);
  const owner = await apiToken(server, 'owner@example.com', [...DUST, 'organizations:write']);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Pool', slug: 'pool' })).body!;
  const transfer = async (body: Record<string, unknown>, token = owner) =>
    (
      await fetch(`${server.url}/api/dust/transfers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify(body),
      })
    ).status;
  t.is(await transfer({ organization_id: org.id, direction: 'to_organization', amount: 20 }), 201);
  t.is(await balance(server, owner), 5);
  t.is(await balance(server, owner, `?organization_id=${org.id}`), 20);
  t.is(await transfer({ organization_id: org.id, direction: 'to_person', amount: 30 }), 402);
  t.is(await transfer({ organization_id: org.id, direction: 'to_person', amount: 7 }), 201);
  t.is(await balance(server, owner, `?organization_id=${org.id}`), 13);

  const stranger = await apiToken(server, 'stranger@example.com', DUST);
  t.is(await transfer({ organization_id: org.id, direction: 'to_person', amount: 1 }, stranger), 404);
  t.is((await callApi(server, stranger, 'GET', `/api/dust/transactions?organization_id=${org.id}`)).status, 404);
});

test('a token without the DUST scopes is refused and books nothing', async (t) => {
  const server = await startTestServer(t);
  const reader = await apiToken(server, 'reader@example.com', ['dust:read']);
  const refused = await charge(server, reader, { amount: 1, description: 'x' });
  t.is(refused.status, 403);
  t.is(refused.body.error, 'insufficient_scope');
  t.is(await balance(server, reader), 25);
});
