import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { KeyValueWrite } from '../../src/db/key-value.ts';
import { apiTokens } from '../helpers/api.ts';
import { outboxEvents } from '../helpers/events.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer, twoInstances } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

// Each test starts a server of its own (several move its clock); one at a time, so that on the
// embedded database their WASM Postgres start-ups do not compete for a busy machine's CPU.

/** A person signed in to a web app with offline access: the app holds R0, a refresh token never used. */
async function signedIn(t: ExecutionContext, env: Record<string, string> = {}) {
  const server = await startTestServer(t, { env });
  const client = await registerClient(server.app);
  const config = await discover(server.url, client.clientId, client.clientSecret);
  const tokens = await codeFlowWithOfflineAccess(server.url, config, 'ada@example.com');
  return { server, client, config, tokens, r0: tokens.refresh_token! };
}

async function refusedAsInvalidGrant(t: ExecutionContext, refresh: Promise<unknown>, message: string) {
  const error = await t.throwsAsync(refresh, undefined, message);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_grant', message);
}

/** The refresh_token grant as a plain form POST to one instance's token endpoint (client_secret_basic). */
function refreshOn(server: TestServer, client: { clientId: string; clientSecret?: string | undefined }, token: string) {
  return fetch(`${server.url}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
  });
}

type TokenAnswer = { refresh_token?: string; error?: string };

async function graceEvents(server: TestServer) {
  return server.app.services.db
    .selectFrom('audit_events')
    .select(['outcome', 'detail'])
    .where('event', '=', 'refresh_token_reused')
    .execute();
}

test.serial(
  'within the window the rotated token is answered with its successor, and the person stays signed in',
  async (t) => {
    const { server, config, r0 } = await signedIn(t);
    const first = await oidc.refreshTokenGrant(config, r0);
    const r1 = first.refresh_token!;
    t.not(r1, r0);

    // The app never saw `first` (its connection dropped) and retries with the token it has.
    const retry = await oidc.refreshTokenGrant(config, r0);
    t.is(retry.refresh_token, r1, 'the same successor: the grant keeps one rotation chain');
    t.not(retry.access_token, first.access_token, 'a fresh access token');
    t.true((await oidc.tokenIntrospection(config, retry.access_token)).active);
    t.is(retry.claims()!.sub, first.claims()!.sub);

    const next = await oidc.refreshTokenGrant(config, r1);
    const after = await oidc.refreshTokenGrant(config, next.refresh_token!);
    const userinfo = await oidc.fetchUserInfo(config, after.access_token, first.claims()!.sub);
    t.is(userinfo.email, 'ada@example.com');
    t.deepEqual(await graceEvents(server), [{ outcome: 'success', detail: null }]);
  },
);

// Without Redis, opaque access tokens are database rows: the record has no key-value write to ride with.
const withRedis = process.env.REDIS_URL ? test.serial : test.skip;

withRedis("a rotation's grace record is written with the new opaque access token, in one write", async (t) => {
  const { server, config, r0 } = await signedIn(t);
  // Every write the server sends its key-value store, passed on unchanged.
  const { kv } = server.app.services;
  const write = kv.write.bind(kv);
  const batches: KeyValueWrite[][] = [];
  kv.write = async (writes) => {
    batches.push(writes);
    await write(writes);
  };

  const first = await oidc.refreshTokenGrant(config, r0);
  const withRecord = batches.filter((writes) => writes.some((w) => w.key.startsWith('refresh-grace:')));
  t.is(withRecord.length, 1);
  t.true(withRecord[0]!.some((w) => w.key === `oidc:AccessToken:${first.access_token}`));
  // The record it rode with is the one the grace reads.
  t.is((await oidc.refreshTokenGrant(config, r0)).refresh_token, first.refresh_token);
});

test.serial('a second reuse of the rotated token revokes the grant, its successor included', async (t) => {
  const { server, config, r0 } = await signedIn(t);
  const first = await oidc.refreshTokenGrant(config, r0);
  const retry = await oidc.refreshTokenGrant(config, r0);

  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, r0), 'the grace is used once per rotation');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the successor died too');
  t.false((await oidc.tokenIntrospection(config, retry.access_token)).active);
  t.deepEqual(
    (await graceEvents(server)).map((event) => event.outcome),
    ['success', 'failure'],
    'the grace is audited, and so is the second reuse, for which oidc-provider revokes the grant',
  );
});

test.serial('a reuse after the successor was itself used revokes the grant, even within the window', async (t) => {
  const { config, r0 } = await signedIn(t);
  const first = await oidc.refreshTokenGrant(config, r0);
  const second = await oidc.refreshTokenGrant(config, first.refresh_token!);

  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, r0), 'the chain has moved on');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, second.refresh_token!), 'the grant is gone');
});

test.serial('the rotated token presented by another client within the window revokes the grant', async (t) => {
  const { server, config, r0 } = await signedIn(t);
  const first = await oidc.refreshTokenGrant(config, r0);
  const other = await registerClient(server.app, { name: 'Other app' });
  const otherConfig = await discover(server.url, other.clientId, other.clientSecret);

  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(otherConfig, r0), 'another client gets no grace');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, r0), 'nor does the owner afterwards');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the grant is gone');
  t.false((await oidc.tokenIntrospection(config, first.access_token)).active);
});

test.serial('a reuse after the window revokes the grant', async (t) => {
  const { server, config, r0 } = await signedIn(t);
  const first = await oidc.refreshTokenGrant(config, r0);
  server.clock.advance(11);

  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, r0), 'ten seconds are over');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the successor died too');
  t.deepEqual(
    (await graceEvents(server)).map((event) => event.detail),
    [{ reason: 'window_over' }],
  );
});

test.serial('the window is as long as REFRESH_TOKEN_REUSE_GRACE_SECONDS says', async (t) => {
  const { server, config, r0 } = await signedIn(t, { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '30' });
  const first = await oidc.refreshTokenGrant(config, r0);
  server.clock.advance(29);
  t.is((await oidc.refreshTokenGrant(config, r0)).refresh_token, first.refresh_token);
});

test.serial(
  'with REFRESH_TOKEN_REUSE_GRACE_SECONDS=0 the first reuse revokes the grant, as with no window',
  async (t) => {
    const { server, config, r0 } = await signedIn(t, { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
    const first = await oidc.refreshTokenGrant(config, r0);

    await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, r0), 'no grace at all');
    await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the grant is gone');
    t.deepEqual(
      await graceEvents(server),
      [{ outcome: 'failure', detail: null }],
      'no grace is audited, only the reuse that revoked the grant',
    );
  },
);

// RFC 9449 5: only a public client's refresh tokens are bound to its DPoP key (a confidential
// client's are bound to its credentials already).
test.serial('a DPoP-bound rotated token is answered within the window only with a proof of the same key', async (t) => {
  const server = await startTestServer(t);
  const client = await registerClient(server.app, { authMethod: 'none' });
  const { config, tokens, DPoP } = await apiTokens(server, 'dee@example.com', ['account:read', 'offline_access'], {
    client,
    dpopKeys: await oidc.randomDPoPKeyPair(),
  });
  const r0 = tokens.refresh_token!;
  const first = await oidc.refreshTokenGrant(config, r0, undefined, { DPoP });
  const retry = await oidc.refreshTokenGrant(config, r0, undefined, { DPoP });
  t.is(retry.refresh_token, first.refresh_token);
  t.is(retry.token_type, 'dpop');

  const second = await oidc.refreshTokenGrant(config, first.refresh_token!, undefined, { DPoP });
  const thief = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair());
  await refusedAsInvalidGrant(
    t,
    oidc.refreshTokenGrant(config, first.refresh_token!, undefined, { DPoP: thief }),
    'another key gets no grace',
  );
  await refusedAsInvalidGrant(
    t,
    oidc.refreshTokenGrant(config, second.refresh_token!, undefined, { DPoP }),
    'and the grant is revoked',
  );
  t.deepEqual(
    (await graceEvents(server)).map((event) => event.detail),
    [null, { reason: 'other_key' }],
  );
});

// Ten presentations of one rotated token cannot be told from a thief racing its owner (RFC 9700
// 4.14.2), so the grace goes to one of them and the others revoke the grant: the person signs in
// again. Concurrent CLI processes avoid this by refreshing one at a time (the CLI's file lock).
test.serial(
  'ten concurrent reuses within the window: one is granted the grace, the others revoke the grant',
  async (t) => {
    const { server, client, config, r0 } = await signedIn(t);
    const first = await oidc.refreshTokenGrant(config, r0);

    const answers = await Promise.all(Array.from({ length: 10 }, () => refreshOn(server, client, r0)));
    const bodies = await Promise.all(answers.map((answer) => answer.json() as Promise<TokenAnswer>));
    const refused = bodies.filter((body) => body.error === 'invalid_grant');
    // The graced one may still lose to a revocation by the others before its tokens are issued.
    t.true(refused.length >= 9, 'every reuse but the graced one is refused');
    t.is(bodies.filter((body) => body.refresh_token === first.refresh_token).length, 10 - refused.length);
    const events = await graceEvents(server);
    t.is(events.filter((event) => event.outcome === 'success').length, 1, 'exactly one reuse was granted the grace');
    await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the grant is revoked');
    t.is(
      (await outboxEvents(server.app.services.db, 'grant.revoked')).length,
      1,
      'revoked by several requests at once, the grant is published once',
    );
  },
);

// Instances share rotations and the single use of their grace only through Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test.serial : test.skip;

/** Two instances behind a load balancer, with a client registered on them. */
async function instancesWithClient(t: ExecutionContext) {
  const { a, b, clock } = await twoInstances(t);
  const client = await registerClient(a.app);
  const config = await discover(a.url, client.clientId, client.clientSecret);
  return { a, b, clock, client, config };
}

shared('two instances racing the same reuse grant the grace once, and the other reuse revokes the grant', async (t) => {
  const { a, b, client, config } = await instancesWithClient(t);
  const tokens = await codeFlowWithOfflineAccess(a.url, config, 'ada@example.com');
  const r0 = tokens.refresh_token!;
  const first = await oidc.refreshTokenGrant(config, r0);

  const answers = await Promise.all([refreshOn(a, client, r0), refreshOn(b, client, r0)]);
  const bodies = await Promise.all(answers.map((answer) => answer.json() as Promise<TokenAnswer>));
  t.true(
    bodies.some((body) => body.error === 'invalid_grant'),
    'at least one of them is refused',
  );
  // The graced one may still lose to the other's revocation before its tokens are issued.
  t.true(bodies.every((body) => body.error === 'invalid_grant' || body.refresh_token === first.refresh_token));
  t.is(
    (await graceEvents(a)).filter((event) => event.outcome === 'success').length,
    1,
    'one instance granted the grace, and only one',
  );
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the grant is revoked');
});

shared('a rotation on one instance is graced on the other within the window, and not after it', async (t) => {
  const { a, b, clock, client, config } = await instancesWithClient(t);
  const signIn = async () => (await codeFlowWithOfflineAccess(a.url, config, 'ada@example.com')).refresh_token!;

  const r0 = await signIn();
  const first = await oidc.refreshTokenGrant(config, r0);
  const retry = await refreshOn(b, client, r0);
  t.is(retry.status, 200);
  t.is(((await retry.json()) as TokenAnswer).refresh_token, first.refresh_token);

  const other = await signIn();
  await oidc.refreshTokenGrant(config, other);
  clock.advance(11);
  const late = await refreshOn(b, client, other);
  t.is(((await late.json()) as TokenAnswer).error, 'invalid_grant');
});
