import test from 'ava';
import { CLOSE } from '../../../src/environments/terminal/close-codes.ts';
import { ShellError } from '../../../src/environments/terminal/ssh-shell.ts';
import { TerminalSession, type ViewerSink } from '../../../src/environments/terminal/terminal-session.ts';
import { testClock } from '../../helpers/clock.ts';
import { newKeyPair, until } from '../../helpers/machines.ts';
import { startTerminalMachine } from '../../helpers/terminal-machine.ts';

/** A viewer that keeps everything it gets; `reading: false` never lets a frame count as written. */
function recorder(options: { reading?: boolean } = {}) {
  const chunks: Buffer[] = [];
  const controls: Record<string, unknown>[] = [];
  let closed: { code: number; reason: string } | undefined;
  let received = 0;
  const sink: ViewerSink = {
    output(offset, data, written) {
      if (offset !== received) throw new Error(`gap: frame at ${offset}, expected ${received}`);
      received += data.length;
      chunks.push(data);
      if (options.reading !== false) setImmediate(written);
    },
    control: (message) => {
      controls.push(message);
      // Output continues from `from` after a hello or a redraw.
      if (message.type === 'redraw' || (message.type === 'hello' && chunks.length === 0))
        received = message.from as number;
    },
    close: (reason) => {
      closed = reason;
    },
  };
  return {
    sink,
    controls,
    text: () => Buffer.concat(chunks).toString('utf8'),
    bytes: () => Buffer.concat(chunks),
    get received() {
      return received;
    },
    set received(value: number) {
      received = value;
    },
    get closed() {
      return closed;
    },
  };
}

const size = { cols: 100, rows: 30 };

test('typed input reaches the shell in tmux and its output comes back', async (t) => {
  const machine = await startTerminalMachine(t);
  const session = await TerminalSession.open(machine, { tmux: 'main', ...size });
  t.teardown(() => session.close(CLOSE.normal));
  const view = recorder();
  session.attach(view.sink, { inputStream: 'a', ...size });
  const token = `hello-${Math.floor(Math.random() * 1e9)}`;
  session.input('a', 1, Buffer.from(`echo ${token.replace('-', '-""')}\r`));
  await until(() => view.text().includes(token) || undefined, 'the echo');
  t.is(view.controls[0]?.type, 'hello');
});

test('a resize reaches the PTY: stty size answers the new rows and columns', async (t) => {
  const machine = await startTerminalMachine(t);
  const session = await TerminalSession.open(machine, { tmux: 'sized', ...size });
  t.teardown(() => session.close(CLOSE.normal));
  const view = recorder();
  session.attach(view.sink, { inputStream: 'a', ...size });
  session.resize(77, 21);
  // tmux resizes the pane after the PTY changes, so stty is asked until it answers the new size
  // (tmux keeps the last row for its status line).
  let asked = 0;
  await until(() => {
    if (/size=20 77=/.test(view.text())) return true;
    if (asked % 20 === 0) session.input('a', asked / 20 + 1, Buffer.from('echo "size=$(stty size)="\r'));
    asked += 1;
    return undefined;
  }, 'stty size after resize');
  t.pass();
});

test('the tmux session outlives the SSH connection: a variable set before is still set after reconnecting', async (t) => {
  const machine = await startTerminalMachine(t);
  const first = await TerminalSession.open(machine, { tmux: 'keep', ...size });
  const one = recorder();
  first.attach(one.sink, { inputStream: 'a', ...size });
  first.input('a', 1, Buffer.from('export KEPT=still-here-42\r'));
  first.input('a', 2, Buffer.from('echo "set:$KEPT"\r'));
  await until(() => one.text().includes('set:still-here-42') || undefined, 'the variable to be set');
  first.close(CLOSE.normal);

  const second = await TerminalSession.open(machine, { tmux: 'keep', ...size });
  t.teardown(() => second.close(CLOSE.normal));
  const two = recorder();
  second.attach(two.sink, { inputStream: 'b', ...size });
  second.input('b', 1, Buffer.from('echo "again:$KEPT:"\r'));
  await until(() => two.text().includes('again:still-here-42:') || undefined, 'the variable after reconnecting');
  t.pass();
});

test('a machine presenting another host key is refused, and the reason names both fingerprints', async (t) => {
  const machine = await startTerminalMachine(t);
  const impostorExpected = newKeyPair('some-other-host').public;
  const error = await t.throwsAsync(
    TerminalSession.open({ ...machine, hostPublicKey: impostorExpected }, { tmux: 'main', ...size }),
    { instanceOf: ShellError },
  );
  t.is(error.close.code, CLOSE.hostKey.code);
  t.regex(error.close.reason, /^host key mismatch: got SHA256:\S+, expected SHA256:\S+$/);
});

test('a viewer that reconnects with its last offset gets exactly the missing bytes of seq 1 300000', async (t) => {
  const machine = await startTerminalMachine(t);
  // No tmux here: the byte-exact comparison needs the program's own output (the PTY adds \r).
  const session = await TerminalSession.open(machine, { command: 'stty -echo; seq 1 300000; sleep 600', ...size });
  t.teardown(() => session.close(CLOSE.normal));
  const expected = `${Array.from({ length: 300000 }, (_, i) => i + 1).join('\r\n')}\r\n`;
  const first = recorder();
  const viewer = session.attach(first.sink, { inputStream: 'a', ...size });
  await until(() => (first.received > 300_000 ? true : undefined), 'part of the output');
  // The connection drops: frames already handed over but unread are lost with it.
  viewer.detach();
  const kept = first.bytes().subarray(0, first.received - 1000);
  const hello = first.controls[0] as { session: string };

  const second = recorder();
  second.received = kept.length;
  session.attach(second.sink, { session: hello.session, offset: kept.length, inputStream: 'a', ...size });
  await until(() => (second.received >= expected.length ? true : undefined), 'the rest of the output');
  const total = Buffer.concat([kept, second.bytes()]).toString('utf8');
  t.is(total.length, expected.length);
  t.true(total === expected, 'the bytes received in total are the output exactly');
  t.is(second.controls[0]?.type, 'hello');
  t.false(second.controls.some((message) => message.type === 'redraw'));
});

test('an input frame sent again after a reconnect runs once', async (t) => {
  const machine = await startTerminalMachine(t);
  const session = await TerminalSession.open(machine, { tmux: 'once', ...size });
  t.teardown(() => session.close(CLOSE.normal));
  const first = recorder();
  const viewer = session.attach(first.sink, { inputStream: 'phone', ...size });
  const frame = Buffer.from('echo "ran-$((RAN=RAN+1))-"\r');
  t.true(session.input('phone', 1, frame));
  viewer.detach();
  const second = recorder();
  session.attach(second.sink, { inputStream: 'phone', ...size });
  // hello tells the client which of its frames were applied.
  t.is(second.controls[0]?.input, 1);
  t.false(session.input('phone', 1, frame));
  t.true(session.input('phone', 2, Buffer.from('echo "count-$RAN-"\r')));
  await until(() => second.text().includes('count-1-') || undefined, 'the count');
  t.false(second.text().includes('count-2-'));
});

// Serial: the memory it measures is this process's, which the file's other tests would share.
test.serial(
  'a viewer that reads nothing pauses the SSH stream instead of growing memory, and a reader is unaffected',
  async (t) => {
    const machine = await startTerminalMachine(t);
    const session = await TerminalSession.open(machine, {
      command: 'yes flood-flood-flood-flood',
      ...size,
      limits: { ringBytes: 2 * 1024 * 1024 },
    });
    t.teardown(() => session.close(CLOSE.normal));
    const stuck = recorder({ reading: false });
    session.attach(stuck.sink, { inputStream: 's', ...size });
    const before = process.memoryUsage().rss;
    // Alone, the stuck viewer lets the stream run to the high-water mark and no further.
    await until(() => (session.paused ? true : undefined), 'the stream to pause');
    t.log(session.ring.end, stuck.received);
    t.true(session.ring.end < 2 * 1024 * 1024);
    // The window plus the one frame that crossed it.
    t.true(stuck.received <= 320 * 1024);

    // A reading viewer keeps it flowing; the stuck one is overtaken and gets a redraw, not a gap.
    const reader = recorder();
    session.attach(reader.sink, { inputStream: 'r', ...size });
    await until(() => (session.ring.end > 12 * 1024 * 1024 ? true : undefined), '12 MiB through the bridge');
    t.true(stuck.received <= 320 * 1024);
    t.true(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'memory stays bounded');
  },
);

test('a session with nothing typed and nothing printed for the idle timeout closes its viewers with 4008', async (t) => {
  const machine = await startTerminalMachine(t);
  const clock = testClock();
  const session = await TerminalSession.open(machine, { tmux: 'idle', ...size, clock, limits: { idleMs: 60_000 } });
  t.teardown(() => session.close(CLOSE.normal));
  const view = recorder();
  session.attach(view.sink, { inputStream: 'a', ...size });
  session.input('a', 1, Buffer.from('echo "typed-$((2+2))"\r'));
  await until(() => view.text().includes('typed-4') || undefined, 'the echo');

  // Each step below runs without yielding, so output arriving meanwhile cannot count as activity.
  clock.advance(59);
  t.false(session.closeIfIdle(), 'not idle before the timeout');
  clock.advance(2);
  t.true(session.closeIfIdle());
  t.deepEqual(view.closed, CLOSE.idle);
  t.deepEqual(session.ended, CLOSE.idle);
});

test('typing counts as activity: the idle timeout runs from the last keystroke', async (t) => {
  const machine = await startTerminalMachine(t);
  const clock = testClock();
  const session = await TerminalSession.open(machine, { tmux: 'busy', ...size, clock, limits: { idleMs: 60_000 } });
  t.teardown(() => session.close(CLOSE.normal));
  const view = recorder();
  session.attach(view.sink, { inputStream: 'a', ...size });
  clock.advance(50);
  session.input('a', 1, Buffer.from(' '));
  clock.advance(50);
  t.false(session.closeIfIdle(), '50 s after the keystroke');
  clock.advance(11);
  t.true(session.closeIfIdle());
  t.deepEqual(view.closed, CLOSE.idle);
});
