import { randomUUID } from 'node:crypto';
import test from 'ava';
import { apiToken } from '../../helpers/api.ts';
import { until } from '../../helpers/machines.ts';
import type { TestServer } from '../../helpers/server.ts';
import { openTerminal } from '../../helpers/terminal-client.ts';
import {
  runningEnvironment,
  startTerminalServer,
  TERMINAL_SCOPES,
  ticketFor,
} from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
// The local driver gives each machine the template's own Linux user only as root.
const rootTest = asRoot ? test.serial : test.skip;

let server: TestServer;
let environment: { id: string; token: string };

// Hooks cannot register teardowns: one server and environment for the file, cleaned up after it.
const cleanups: (() => Promise<void> | void)[] = [];
test.before(async () => {
  if (!asRoot) return;
  const hookContext = { teardown: (fn: () => Promise<void>) => cleanups.push(fn) };
  ({ server } = await startTerminalServer(hookContext as never));
  environment = await runningEnvironment(server, 'terminal@example.com');
});
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const open = async (body: Record<string, unknown> = {}, options: Parameters<typeof openTerminal>[1] = {}) => {
  const ticket = await ticketFor(server, environment.token, environment.id, body);
  if (ticket.status !== 201) throw new Error(JSON.stringify(ticket.body));
  return openTerminal(ticket.body!.url, options);
};

rootTest(
  'over the WebSocket: echo comes back, stty size follows a resize, and the tmux session survives a reconnect',
  async (t) => {
    const first = await open({ tmux_session: 'basics' });
    const token = `hello-${Math.floor(Math.random() * 1e9)}`;
    first.type(`echo ${token.replace('-', '-""')}\r`);
    await first.waitFor(token, 'the echo');

    first.control({ type: 'resize', cols: 91, rows: 33 });
    // tmux resizes the pane after the PTY changes, so stty is asked until it answers the new size
    // (tmux keeps a row for its status line).
    let asked = 0;
    await until(() => {
      if (first.text().includes('size=32 91=')) return true;
      if (asked++ % 20 === 0) first.type('echo "size=$(stty size)="\r');
      return undefined;
    }, 'stty size after resize');

    first.type('export KEPT=value-$((6*7))\r');
    first.type('echo "kept:$KEPT"\r');
    await first.waitFor('kept:value-42');
    first.ws.terminate();
    await first.closedPromise;

    const second = await open({ tmux_session: 'basics' });
    second.type('echo "again:$KEPT:"\r');
    await second.waitFor('again:value-42:', 'the variable after reconnecting');
    t.pass();
  },
);

rootTest(
  'a WebSocket cut during seq 1 300000 resumes from the last offset without losing a byte, and a resent input frame runs once',
  async (t) => {
    // A second viewer of the same session stays connected throughout: the reference for every byte.
    const watcher = await open({ tmux_session: 'flow' });
    await watcher.hello();
    const typist = await open({ tmux_session: 'flow' });
    const hello = await typist.hello();
    const start = typist.offset;
    const run = typist.type('seq 1 300000; echo "done-$((1+1))"\r');
    // tmux paints what it can of 2 MB of numbers (a few hundred kB), so the cut comes early.
    await until(() => (typist.offset > start + 30_000 ? true : undefined), 'output to flow');
    typist.ws.terminate();
    await typist.closedPromise;
    const kept = typist.bytes();
    const cutAt = typist.offset;

    const ticket = await ticketFor(server, environment.token, environment.id, { tmux_session: 'flow' });
    const resumed = await openTerminal(ticket.body!.url, {
      session: hello.session,
      offset: cutAt,
      inputStream: typist.inputStream,
    });
    const again = await resumed.hello();
    t.is(again.from, cutAt, 'the bytes continue exactly where the cut left them');
    t.is(again.input, run, 'hello says which input frame was applied last');
    // On a busy machine tmux paints little of the numbers, and the end may come before the cut.
    await until(
      () => Buffer.concat([kept, resumed.bytes()]).toString('utf8').includes('done-2') || undefined,
      'the end of the output',
    );
    t.false(resumed.controls.some((message) => message.type === 'redraw'));

    const end = resumed.offset;
    await until(() => (watcher.offset >= end ? true : undefined), 'the watcher to catch up');
    const watcherFrom = (watcher.controls.find((message) => message.type === 'hello')?.from ?? 0) as number;
    const reference = watcher.bytes().subarray(start - watcherFrom, end - watcherFrom);
    const received = Buffer.concat([kept.subarray(start - (hello.from as number)), resumed.bytes()]);
    t.is(received.length, reference.length);
    t.true(received.equals(reference), 'the bytes received in total are exactly what the session produced');

    // The resent frame (the same sequence number) is not typed again.
    resumed.type('echo marker-$((2+3))\r', run);
    resumed.type('echo after-$((3+4))\r', run + 1);
    await resumed.waitFor('after-7');
    t.false(resumed.text().includes('marker-5'));
    watcher.ws.close();
    resumed.ws.close();
  },
);

rootTest(
  'a client sending 50 MB as fast as it can and one reading nothing leave memory bounded and other terminals responsive',
  async (t) => {
    const before = process.memoryUsage().rss;
    // The remote side prints without end to a client that never reads.
    const stuck = await open({ tmux_session: 'stuck' }, { paused: true });
    stuck.type('yes flood-flood-flood-flood-flood\r');
    const flooder = await open({ tmux_session: 'flooder' });
    await flooder.hello();
    flooder.type('stty -echo; cat > /dev/null\r');
    const chunk = 'x'.repeat(60 * 1024);
    for (let sent = 0; sent < 50 * 1024 * 1024; sent += chunk.length) {
      flooder.type(chunk);
      // ws buffers what the socket has not taken; the flood goes as fast as the socket drains.
      if (flooder.ws.bufferedAmount > 8 * 1024 * 1024)
        await until(() => (flooder.ws.bufferedAmount < 1024 * 1024 ? true : undefined), 'the socket to drain');
    }
    const other = await open({ tmux_session: 'responsive' });
    other.type('echo "still-$((40+2))"\r');
    await other.waitFor('still-42', 'an echo in another session during the flood');
    const grown = process.memoryUsage().rss - before;
    t.log(`rss grew by ${Math.round(grown / 1024 / 1024)} MiB`);
    t.true(grown < 200 * 1024 * 1024, 'memory stays bounded');
    for (const client of [stuck, flooder, other]) client.ws.terminate();
  },
);

rootTest(
  'tickets are refused before any SSH connection: expired, reused, another environment, another person, wrong Origin',
  async (t) => {
    const hub = server.app.terminals.hub;
    const refused = async (url: string, options: Parameters<typeof openTerminal>[1] = {}) => {
      const error = await t.throwsAsync(openTerminal(url, options));
      return error as Error & { status: number; body: string };
    };
    // Nothing of this test opens a session: the count stays where it is.
    const started = hub.connectionsStarted();

    const expired = await ticketFor(server, environment.token, environment.id);
    server.clock.advance(31);
    const late = await refused(expired.body!.url);
    t.is(late.status, 401);
    t.regex(late.body, /has expired/);

    const used = await ticketFor(server, environment.token, environment.id, { tmux_session: 'reuse' });
    const client = await openTerminal(used.body!.url);
    await client.hello();
    const startedWithOne = hub.connectionsStarted();
    const again = await refused(used.body!.url);
    t.is(again.status, 401);
    t.regex(again.body, /already used/);
    client.ws.close();

    const other = await ticketFor(server, environment.token, environment.id);
    const elsewhere = other.body!.url.replace(environment.id, randomUUID());
    const wrongEnvironment = await refused(elsewhere);
    t.is(wrongEnvironment.status, 403);
    t.regex(wrongEnvironment.body, /another environment/);

    const stranger = await apiToken(server, 'stranger@example.com', TERMINAL_SCOPES);
    const theirs = await ticketFor(server, stranger, environment.id);
    t.is(theirs.status, 404, 'another person cannot get a ticket for this environment');

    const wrongOrigin = await refused(other.body!.url, { origin: 'https://evil.example' });
    t.is(wrongOrigin.status, 403);
    t.regex(wrongOrigin.body, /cannot be opened from https:\/\/evil.example/);
    // The refused Origin did not use the ticket up: the right Origin (the app's registered one) still works.
    const allowed = await openTerminal(other.body!.url, { origin: 'http://127.0.0.1:9' });
    await allowed.hello();
    allowed.ws.close();

    t.is(startedWithOne, started + 1);
    t.is(hub.connectionsStarted(), started + 2, 'only the two admitted upgrades connected over SSH');

    const noScope = await apiToken(server, 'terminal@example.com', ['environments:read']);
    t.is((await ticketFor(server, noScope, environment.id)).status, 403, 'the ticket needs environments:connect');
  },
);

rootTest('a frame over the 64 KiB maximum closes with 1009, and an unreadable control message with 4002', async (t) => {
  const big = await open({ tmux_session: 'limits' });
  await big.hello();
  big.type('x'.repeat(65 * 1024));
  t.is((await big.closedPromise).code, 1009);

  const garbled = await open({ tmux_session: 'limits' });
  await garbled.hello();
  garbled.ws.send('{"type":"resize","cols":"wide"}');
  t.deepEqual(await garbled.closedPromise, { code: 4002, reason: 'protocol error: unreadable control message' });
});
