import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createLocalDriver } from '../../../src/environments/local.driver.ts';
import { environmentStorage, startEnvironmentServer } from '../../helpers/environments.ts';
import type { TestServer } from '../../helpers/server.ts';
import { openTerminal } from '../../helpers/terminal-client.ts';
import { runningEnvironment, ticketFor } from '../../helpers/terminal-environment.ts';

// Two instances share the open terminals only through Redis, and an environment only through Postgres.
const sharedTest =
  process.getuid?.() === 0 && process.env.REDIS_URL && process.env.DATABASE_URL ? test.serial : test.skip;

/** Two instances on one database and Redis prefix, with one local driver (the machines are this computer's). */
async function twoInstances(t: ExecutionContext, limits: Record<string, string>) {
  const storage = await environmentStorage(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'fairyid-terminal-limits-'));
  const driver = createLocalDriver({ dataDir, phoneHomeIntervalMs: 100 });
  const env = { ...storage, TERMINAL_CHECK_MS: '100', ...limits };
  const one = await startEnvironmentServer(env, { driver });
  // Behind one balancer: the same issuer, so a token from either instance is good on both.
  const two = await startEnvironmentServer(env, { driver }, { issuer: one.url });
  t.teardown(async () => {
    await one.stop();
    await two.stop();
    await driver.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { one, two };
}

/** The ticket's WebSocket URL, pointed at `server` (the instances share tickets through Redis). */
const on = (server: TestServer, url: string) => url.replace(/\/\/[^/]+\//, `//${new URL(server.url).host}/`);

sharedTest(
  'the per-person limit counts terminals on every instance; reconnecting to an open one elsewhere is allowed',
  async (t) => {
    const { one, two } = await twoInstances(t, { TERMINALS_PER_PERSON: '1' });
    const environment = await runningEnvironment(one, 'everywhere@example.com');
    const first = await openTerminal((await ticketFor(one, environment.token, environment.id)).body!.url);
    await first.hello();

    const second = await ticketFor(two, environment.token, environment.id, { tmux_session: 'second' });
    t.is(second.status, 429, 'a second terminal on the other instance is past the limit');
    t.is(second.body!.error, 'too_many_terminals');

    // The same tmux session through the other instance (a phone behind a balancer): the same terminal.
    const same = await ticketFor(two, environment.token, environment.id, { tmux_session: 'main' });
    t.is(same.status, 201);
    const again = await openTerminal(on(two, same.body!.url));
    again.type('echo "same-$((4*4))"\r');
    await again.waitFor('same-16');
    again.ws.close();
    first.ws.close();
  },
);

sharedTest(
  'the per-environment limit holds across instances, also for upgrades arriving on both at once',
  async (t) => {
    const { one, two } = await twoInstances(t, { TERMINALS_PER_ENVIRONMENT: '1' });
    const environment = await runningEnvironment(one, 'crowded@example.com');
    // Both tickets are issued while nothing is open; the upgrades then race on two instances.
    const a = await ticketFor(one, environment.token, environment.id, { tmux_session: 'a' });
    const b = await ticketFor(two, environment.token, environment.id, { tmux_session: 'b' });
    t.is(a.status, 201);
    t.is(b.status, 201);
    const results = await Promise.allSettled([openTerminal(on(one, a.body!.url)), openTerminal(on(two, b.body!.url))]);
    const opened = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const refused = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as Error & { status?: number; body?: string }] : [],
    );
    t.is(opened.length, 1, 'one terminal is let in');
    t.is(refused[0]?.status, 429);
    t.regex(refused[0]?.body ?? '', /too_many_terminals/);
    for (const terminal of opened) await terminal.hello();
    t.is(
      one.app.terminals.hub.connectionsStarted() + two.app.terminals.hub.connectionsStarted(),
      1,
      'the refused upgrade made no SSH connection',
    );
    const third = await ticketFor(one, environment.token, environment.id, { tmux_session: 'c' });
    t.is(third.status, 429);

    // The instance holding it shuts its terminals down (as at a SIGTERM): they stop counting at once.
    const [holder, other] = one.app.terminals.hub.connectionsStarted() === 1 ? [one, two] : [two, one];
    await holder.app.terminals.close();
    t.is((await opened[0]?.closedPromise)?.code, 1001);
    const after = await ticketFor(other, environment.token, environment.id, { tmux_session: 'c' });
    t.is(after.status, 201, JSON.stringify(after.body));
  },
);
