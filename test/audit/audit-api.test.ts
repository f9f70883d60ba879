import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';
import { askForCode, finishAtRelyingParty, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

const OWNER = 'queen@example.com';

type Row = Record<string, unknown> & { id: string; type: string; request_id: string | null; created_at: string };

async function trail(server: TestServer, token: string, query = '') {
  const answer = await callApi(server, token, 'GET', `/api/platform/audit${query}`);
  if (answer.status !== 200) throw new Error(`audit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body as { data: Row[]; next_cursor: string | null };
}

test('audit rows carry the request id the response showed, from our pages and from inside oidc-provider', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: OWNER } });
  const owner = await apiToken(server, OWNER, ['platform:manage']);

  // A wrong code and then the right one, on the hosted pages.
  const page = await openSignInPage(server);
  const codePage = await askForCode(page.client, page.html, 'ada@example.com');
  const code = await latestCode(server.url, 'ada@example.com');
  const wrong = await submitCode(page.client, codePage.html, otherThan(code));
  const right = await submitCode(page.client, codePage.html, code);
  await finishAtRelyingParty(page, right.response);
  const wrongId = wrong.response.headers.get('x-request-id');
  const rightId = right.response.headers.get('x-request-id');
  t.truthy(wrongId);
  t.not(wrongId, rightId);

  const failed = await trail(server, owner, '?type=sign_in_failed');
  t.deepEqual(
    failed.data.map((row) => row.request_id),
    [wrongId],
  );
  const signIns = await trail(server, owner, `?type=sign_in&request_id=${rightId}`);
  t.is(signIns.data.length, 1);
  t.like(signIns.data[0], { type: 'sign_in', outcome: 'success', request_id: rightId });
  const accountId = signIns.data[0]!.account_id;

  // A caller's own X-Request-Id (a proxy's) is kept when it is well-formed, and lands in the row.
  const client = await registerClient(server.app);
  const config = await discover(server.url, client.clientId, client.clientSecret);
  const tokens = await codeFlowWithOfflineAccess(server.url, config, 'ada@example.com');
  const refresh = (requestId: string) =>
    fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        'x-request-id': requestId,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
    });
  t.is((await refresh('proxy-request-0001')).status, 200);
  // The rotated token again, within the grace window: audited inside oidc-provider's own context.
  const reused = await refresh('proxy-request-0002');
  t.is(reused.status, 200);
  t.is(reused.headers.get('x-request-id'), 'proxy-request-0002');
  const reuses = await trail(server, owner, `?type=refresh_token_reused&account_id=${accountId}`);
  t.deepEqual(
    reuses.data.map((row) => row.request_id),
    ['proxy-request-0002'],
  );
});

test('the platform owner pages through the trail and filters it; nobody else may read it', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: OWNER } });
  const owner = await apiToken(server, OWNER, ['platform:manage']);
  const ada = await apiToken(server, 'ada@example.com', ['platform:manage']);
  await apiToken(server, 'bob@example.com', ['account:read']);
  await apiToken(server, 'bob@example.com', ['account:read']);

  const refused = await callApi(server, ada, 'GET', '/api/platform/audit');
  t.is(refused.status, 403, 'a token with the scope is not enough: only the platform owner');
  t.is(refused.body!.error, 'platform_owner_required');
  const anonymous = await fetch(`${server.url}/api/platform/audit`);
  t.is(anonymous.status, 401);

  // Two rows about an organization, recorded as the environments domain records them.
  const organizationId = '6f1d3f5e-9d8a-4c1b-8a2e-0b9f4c3d2e1a';
  for (const event of ['environment_created', 'environment_started'] as const) {
    await server.app.services.audit.record({
      event,
      outcome: 'success',
      origin: { ip: null, userAgent: null },
      accountId: 'someone',
      organizationId,
      detail: { organization_id: organizationId },
    });
  }

  const everything = await trail(server, owner, '?limit=100');
  t.is(everything.next_cursor, null);
  t.true(everything.data.length >= 6, 'four sign-ins and two environment events');
  const order = everything.data.map((row) => [row.created_at, BigInt(row.id)] as const);
  t.true(
    order.every(
      ([at, id], i) => i === 0 || at < order[i - 1]![0] || (at === order[i - 1]![0] && id < order[i - 1]![1]),
    ),
    'newest first',
  );

  // Page by page, two at a time: every row once, in the same order.
  const paged: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof trail>> = await trail(
      server,
      owner,
      `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    t.true(page.data.length <= 2);
    paged.push(...page.data.map((row) => row.id));
    cursor = page.next_cursor;
  } while (cursor);
  t.deepEqual(
    paged,
    everything.data.map((row) => row.id),
  );

  // Bob signed in twice; nobody else did.
  const signIns = (await trail(server, owner, '?type=sign_in')).data.map((row) => String(row.account_id));
  t.is(signIns.length, 4);
  const bob = signIns.find((id) => signIns.filter((other) => other === id).length === 2);
  const byAccount = await trail(server, owner, `?account_id=${bob}&type=sign_in`);
  t.is(byAccount.data.length, 2);
  t.true(byAccount.data.every((row) => row.account_id === bob));
  t.is((await trail(server, owner, `?account_id=${bob}&outcome=failure`)).data.length, 0);

  const byOrganization = await trail(server, owner, `?organization_id=${organizationId}`);
  t.deepEqual(
    byOrganization.data.map((row) => row.type),
    ['environment_started', 'environment_created'],
  );
  const byOrganizationAndType = await trail(
    server,
    owner,
    `?organization_id=${organizationId}&type=environment_created`,
  );
  t.is(byOrganizationAndType.data.length, 1);

  const newest = everything.data[0]!.created_at;
  const oldest = everything.data.at(-1)!.created_at;
  t.is((await trail(server, owner, `?from=${encodeURIComponent(newest)}`)).data[0]!.id, everything.data[0]!.id);
  t.is((await trail(server, owner, `?to=${encodeURIComponent(oldest)}`)).data.length, 0, '`to` is exclusive');
  const future = new Date(Date.parse(newest) + 3_600_000).toISOString();
  t.is((await trail(server, owner, `?from=${future}`)).data.length, 0);
  t.is((await trail(server, owner, `?to=${future}&limit=100`)).data.length, everything.data.length);

  for (const query of [
    '?cursor=not-ours',
    // A well-formed cursor whose id is not a row id of ours.
    `?cursor=${Buffer.from(JSON.stringify({ at: newest, id: 'abc' })).toString('base64url')}`,
    '?type=made_up',
    '?organization_id=not-a-uuid',
    '?from=yesterday',
    '?request_id=short',
    '?limit=101',
  ]) {
    const answer = await callApi(server, owner, 'GET', `/api/platform/audit${query}`);
    t.is(answer.status, 400, query);
    t.is(answer.body!.error, 'invalid_request', query);
  }

  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
    paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
  };
  const names = document.paths['/api/platform/audit']?.get?.parameters?.map((parameter) => parameter.name);
  t.deepEqual(names?.sort(), [
    'account_id',
    'cursor',
    'from',
    'limit',
    'organization_id',
    'outcome',
    'request_id',
    'to',
    'type',
  ]);
});
