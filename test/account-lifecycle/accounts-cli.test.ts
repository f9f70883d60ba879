import test from 'ava';
import * as oidc from 'openid-client';
import { accountByEmail, signedInAt } from '../helpers/account-pages.ts';
import { apiTokens, callApi } from '../helpers/api.ts';
import { runCli } from '../helpers/cli-process.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { outboxEvents } from '../helpers/events.ts';
import { clearRedisPrefix, startServer, testRedisEnv } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const EMAIL = 'gremlin@example.com';

// The CLI and a running server share storage only on Postgres and Redis (the embedded database
// serves one process at a time).
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

shared('the operator suspends and reactivates an account with the CLI, with the same effect as the API', async (t) => {
  const database = await createTestDatabase();
  const env = { ...database.env, ...testRedisEnv() };
  const server = await startServer(env);
  t.teardown(async () => {
    await server.stop();
    await database.drop();
    await clearRedisPrefix(env);
  });
  const cli = (...args: string[]) => runCli(env, args);
  const resource = `${server.url}/api`;
  const api = await apiTokens(server, EMAIL, ['offline_access', 'account:read']);
  const { id, fairyname } = await accountByEmail(server, EMAIL);

  const noReason = await cli('accounts', 'suspend', EMAIL);
  t.is(noReason.code, 2);
  t.regex(noReason.stderr, /A suspension needs a reason/);
  t.is((await cli('accounts', 'suspend', 'nobody@example.com', '--reason', 'x')).code, 2);

  const suspended = await cli('accounts', 'suspend', EMAIL, '--reason', 'Spam');
  t.is(suspended.code, 0, suspended.stderr);
  t.is(suspended.stdout.trim(), `${fairyname} (${id}) is now suspended.`);
  t.is((await callApi(server, api.tokens.access_token, 'GET', '/api/me')).status, 401);
  const refresh = await t.throwsAsync(oidc.refreshTokenGrant(api.config, api.tokens.refresh_token!, { resource }));
  t.is((refresh as oidc.ResponseBodyError).error, 'invalid_grant');
  const refused = await signInThroughPages(server.url, `${server.url}/account`, EMAIL);
  t.is(refused.response.status, 403);
  t.regex(refused.html, /This account is suspended/);
  const events = await server.app.services.audit.recentFor(id, 50);
  t.like(events.find((event) => event.event === 'account_suspended')?.detail, { reason: 'Spam', by: 'operator' });
  const revoked = (await outboxEvents(server.app.services.db, 'grant.revoked')).filter((e) => e.subject.id === id);
  t.deepEqual(
    revoked.map((event) => [event.actor, event.data.reason, event.request_id]),
    [[{ type: 'system' }, 'account_suspended', null]],
    'the operator acts as FairyID itself, outside any request',
  );

  t.is((await cli('accounts', 'suspend', id, '--reason', 'again')).code, 2, 'already suspended');
  const reactivated = await cli('accounts', 'reactivate', id);
  t.is(reactivated.code, 0, reactivated.stderr);
  t.regex(reactivated.stdout, /is now active\./);
  const { html } = await signedInAt(server, '/account', EMAIL);
  t.true(html.includes(fairyname));
});
