import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as oidc from 'openid-client';
import { createLocalDriver } from '../../../src/environments/local.driver.ts';
import { CLOSE } from '../../../src/environments/terminal/close-codes.ts';
import { blockedAccountKey } from '../../../src/oidc/blocked-accounts.ts';
import { callApi } from '../../helpers/api.ts';
import { environmentStorage, startEnvironmentServer } from '../../helpers/environments.ts';
import { until } from '../../helpers/machines.ts';
import { openTerminal } from '../../helpers/terminal-client.ts';
import { runningEnvironment, startTerminalServer, ticketFor } from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
// Serial: local machines started side by side have tripped over each other's run folders.
const rootTest = asRoot ? test.serial : test.skip;
// Two instances share a ticket only through Redis, and an environment only through Postgres.
const sharedTest = asRoot && process.env.REDIS_URL && process.env.DATABASE_URL ? test.serial : test.skip;

rootTest('stopping the environment closes its open terminal with 4004 "environment stopped"', async (t) => {
  const { server } = await startTerminalServer(t);
  const environment = await runningEnvironment(server, 'stopper@example.com');
  const ticket = await ticketFor(server, environment.token, environment.id);
  const terminal = await openTerminal(ticket.body!.url);
  await terminal.hello();
  // Typing counts as activity for the environment's idle rule.
  const before = await server.app.environments.service.get(accountOf(environment.token), environment.id);
  terminal.type('echo "active-$((2*3))"\r');
  await terminal.waitFor('active-6');
  await until(async () => {
    const now = await server.app.environments.service.get(accountOf(environment.token), environment.id);
    return (now.last_activity_at?.getTime() ?? 0) > (before.last_activity_at?.getTime() ?? 0) || undefined;
  }, 'last_activity_at to move');
  t.is((await callApi(server, environment.token, 'POST', `/api/environments/${environment.id}/stop`)).status, 202);
  const closed = await terminal.closedPromise;
  t.deepEqual(closed, { code: CLOSE.stopped.code, reason: 'environment stopped' });
  const refused = await ticketFor(server, environment.token, environment.id);
  t.is(refused.status, 409, 'no ticket for a machine that is not running');
  t.is(refused.body!.error, 'environment_not_running');
});

rootTest(
  'revoking the grant (a rotated refresh token reused) closes its open terminal with 4003 "access revoked"',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const environment = await runningEnvironment(server, 'revoker@example.com');
    const ticket = await ticketFor(server, environment.token, environment.id);
    const upgradeId = `upgrade-${environment.id}`;
    const terminal = await openTerminal(ticket.body!.url, { requestId: upgradeId });
    await terminal.hello();
    terminal.type('echo secret-keystrokes\r');
    await terminal.waitFor('secret-keystrokes');
    const { config, tokens } = environment.tokens;
    await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    // RFC 9700 4.14.2: reuse of a rotated refresh token (past its grace window) revokes the whole grant.
    server.clock.advance(11);
    await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
    const closed = await terminal.closedPromise;
    t.deepEqual(closed, { code: CLOSE.revoked.code, reason: 'access revoked' });

    const accountId = accountOf(environment.tokens.tokens.access_token);
    const ended = await until(async () => {
      const entries = await server.app.services.audit.recentFor(accountId);
      return entries.find((entry) => entry.event === 'terminal_session_ended');
    }, 'the end in the audit log');
    const detail = ended.detail as Record<string, unknown>;
    t.is(detail.close_code, CLOSE.revoked.code);
    t.is(detail.environment_id, environment.id);
    t.true(typeof detail.bytes_out === 'number' && detail.bytes_out > 0);
    const entries = await server.app.services.audit.recentFor(accountId);
    const started = entries.find((entry) => entry.event === 'terminal_session_started');
    t.truthy(started);
    // Both rows carry the id of the WebSocket upgrade that opened the terminal.
    t.is(started?.request_id, upgradeId);
    t.is(ended.request_id, upgradeId);
    t.false(JSON.stringify(entries).includes('secret-keystrokes'), 'keystrokes are never logged');
  },
);

rootTest(
  'an account marked blocked before its newest grant is revoked has its open terminal closed with 4003 "access revoked"',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const environment = await runningEnvironment(server, 'blocked@example.com');
    const terminal = await openTerminal((await ticketFor(server, environment.token, environment.id)).body!.url);
    await terminal.hello();
    // The moment blocked-accounts.ts closes: the account is marked, its grants not yet listed and revoked.
    const accountId = accountOf(environment.token);
    await server.app.services.kv.write([{ op: 'set', key: blockedAccountKey(accountId), value: '1', ttlSeconds: 600 }]);
    const closed = await terminal.closedPromise;
    t.deepEqual(closed, { code: CLOSE.revoked.code, reason: 'access revoked' });
  },
);

rootTest(
  'a person past the terminal limit gets 429 too_many_terminals, and reconnecting to an open session still works',
  async (t) => {
    const { server } = await startTerminalServer(t, { env: { TERMINALS_PER_PERSON: '1' } });
    const environment = await runningEnvironment(server, 'limited@example.com');
    const first = await openTerminal((await ticketFor(server, environment.token, environment.id)).body!.url);
    await first.hello();
    const second = await ticketFor(server, environment.token, environment.id, { tmux_session: 'second' });
    t.is(second.status, 429);
    t.is(second.body!.error, 'too_many_terminals');
    const same = await ticketFor(server, environment.token, environment.id, { tmux_session: 'main' });
    t.is(same.status, 201, 'the open session is not a new one');
    first.ws.close();
  },
);

rootTest(
  'a terminal idle for TERMINAL_IDLE_MINUTES by the server’s clock closes with 4008 "idle timeout"',
  async (t) => {
    const { server } = await startTerminalServer(t, { env: { TERMINAL_IDLE_MINUTES: '1' } });
    const environment = await runningEnvironment(server, 'idler@example.com');
    const terminal = await openTerminal((await ticketFor(server, environment.token, environment.id)).body!.url);
    await terminal.hello();
    terminal.type('echo "awake-$((5+5))"\r');
    await terminal.waitFor('awake-10');
    t.is(terminal.closed, undefined);
    // tmux may repaint its status line now and then, which counts as output: the clock moves on until a check sees a quiet minute.
    const closed = await until(() => {
      server.clock.advance(61);
      return terminal.closed;
    }, 'the idle close');
    t.deepEqual(closed, { code: CLOSE.idle.code, reason: 'idle timeout' });
  },
);

sharedTest('a ticket issued by one instance opens the terminal on another', async (t) => {
  const storage = await environmentStorage(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-terminal-two-'));
  // One driver for both instances: the machines are this computer's, whichever instance asks.
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const env = { ...storage, TERMINAL_CHECK_MS: '100' };
  const one = await startEnvironmentServer(env, { driver });
  const two = await startEnvironmentServer(env, { driver });
  t.teardown(async () => {
    await one.stop();
    await two.stop();
    await driver.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const environment = await runningEnvironment(one, 'two-instances@example.com');
  const ticket = await ticketFor(one, environment.token, environment.id);
  const onTwo = ticket.body!.url.replace(new URL(one.url).host, new URL(two.url).host);
  const terminal = await openTerminal(onTwo);
  terminal.type('echo "on-two-$((1+1))"\r');
  await terminal.waitFor('on-two-2');
  t.is(one.app.terminals.hub.connectionsStarted(), 0);
  t.is(two.app.terminals.hub.connectionsStarted(), 1);
  terminal.ws.close();
});

function accountOf(jwt: string) {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()).sub as string;
}
