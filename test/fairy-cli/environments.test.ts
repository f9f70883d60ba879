import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { configHome, FAIRY, fairy, fairyEnv, loginWithCli, startFairy } from '../helpers/fairy-cli.ts';
import { until } from '../helpers/machines.ts';
import type { TestServer } from '../helpers/server.ts';
import { startTerminalServer } from '../helpers/terminal-environment.ts';

// The local driver gives each environment its own user and mount namespace only as root (README, Tests).
const rootTest = process.getuid?.() === 0 ? test.serial : test.skip;

async function loggedIn(t: ExecutionContext, server: TestServer, email: string) {
  const env = fairyEnv(await configHome(t), server);
  await loginWithCli(server, env, email);
  const run = async (...args: string[]) => {
    const result = await fairy(args, env);
    t.is(result.code, 0, `fairy ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  return { env, run };
}

/** `fairy env ssh` with piped stdin and stdout: what it prints, and a way to type. */
function ssh(env: NodeJS.ProcessEnv, name: string) {
  const process = startFairy(['env', 'ssh', name], env);
  return {
    ...process,
    type: (text: string) => process.child.stdin.write(text),
    waitFor: (pattern: RegExp, what: string) => until(() => pattern.test(process.output().stdout) || undefined, what),
  };
}

rootTest(
  'env: create from a template, list, follow the logs, ssh through the bridge, stop, start and delete',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const { env, run } = await loggedIn(t, server, 'env-builder@example.com');

    t.regex(
      await run('env', 'templates'),
      /^TEMPLATE\s+NAME\s+TIER\s+DUST\s+DESCRIPTION\ntest-box\s+Test box\s+free\s+1\/h\s+A template/,
    );
    t.is(await run('env'), 'No environments yet: fairy env templates, then fairy env create.\n');

    const created = await run('env', 'create', 'box', '--template', 'test-box', '--wait');
    const [, id] = /^box is running \(([0-9a-f-]{36})\): fairy env ssh \1\n$/.exec(created) ?? [];
    t.truthy(id, created);
    t.regex(
      await run('env', 'list'),
      new RegExp(
        `^NAME\\s+STATE\\s+TEMPLATE\\s+TIER\\s+DUST\\s+SSH\\s+ID\\nbox\\s+running\\s+test-box\\s+free\\s+1/h\\s+\\S+@127\\.0\\.0\\.1:\\d+\\s+${id}\\n$`,
      ),
    );
    t.like(JSON.parse(await run('env', '--json'))[0], { id, name: 'box', state: 'running' });

    const logs = await run('env', 'logs', 'box');
    t.regex(logs, /\d\d:\d\d {2}provisioning +/);
    t.regex(logs, /\d\d:\d\d {2}running +/);
    const follow = startFairy(['env', 'logs', '-f', id!, '--json'], env);
    t.teardown(() => follow.child.kill());
    await until(
      () => /"state":"running"/.test(follow.output().stdout) || undefined,
      'the followed trail reaching running',
    );

    const terminal = ssh(env, 'box');
    terminal.type('echo fairy-$((6*7))\n');
    await terminal.waitFor(/fairy-42/, 'the echo through the bridge');
    terminal.type('exit\n');
    const ended = await terminal.done;
    t.is(ended.code, 0, ended.stderr);

    await inLocalTerminal(t, env, 'box');

    t.is(await run('env', 'stop', 'box', '--wait'), 'box is stopped.\n');
    await until(
      () => /"state":"stopped"/.test(follow.output().stdout) || undefined,
      'the followed trail reaching stopped',
    );
    for (const entry of follow.output().stdout.trim().split('\n'))
      t.truthy(JSON.parse(entry).at, 'one JSON object per line');
    const notRunning = await fairy(['env', 'ssh', 'box'], env);
    t.is(notRunning.code, 1);
    t.regex(notRunning.stderr, /environment_not_running/);
    t.is(await run('env', 'start', 'box', '--wait'), 'box is running.\n');

    t.is(await run('env', 'delete', id!, '--wait'), 'box is deleted.\n');
    t.is(await run('env'), 'No environments yet: fairy env templates, then fairy env create.\n');
    const gone = await fairy(['env', 'logs', 'box'], env);
    t.is(gone.code, 4);
    t.regex(gone.stderr, /^fairy: No environment named "box"; see fairy env list\.\n$/);
  },
);

/** A TCP proxy in front of the server whose connections the test can cut, as a network drop does. */
async function cuttableProxy(t: ExecutionContext) {
  let target = 0;
  let refusing = false;
  const open = new Set<Socket>();
  const proxy = createServer((client) => {
    if (refusing) return client.destroy();
    const server = connect(target, '127.0.0.1');
    for (const socket of [client, server]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of open) socket.destroy();
    proxy.close();
  });
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    forwardTo(port: number) {
      target = port;
    },
    /** Drops every connection and refuses new ones until `restore`. */
    cut() {
      refusing = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      refusing = false;
    },
  };
}

rootTest('env ssh reconnects by itself after the network drops and prints every line exactly once', async (t) => {
  const proxy = await cuttableProxy(t);
  // The issuer is the proxy's address, so the CLI's API calls and the ticket's WebSocket URL go through it.
  const { server } = await startTerminalServer(t, { issuer: proxy.url });
  proxy.forwardTo(Number(new URL(server.url).port));
  const { env, run } = await loggedIn(t, { ...server, url: proxy.url }, 'reconnecting@example.com');
  await run('env', 'create', 'flaky', '--template', 'test-box', '--wait');

  const terminal = ssh(env, 'flaky');
  // Output keeps coming while the connection is down; the remote shell paces it, not the test.
  terminal.type('for i in $(seq 1 40); do echo "n-$i"; sleep 0.1; done; echo "done-$((6*7))"\n');
  await terminal.waitFor(/n-3\b/, 'the first lines');
  proxy.cut();
  await until(() => /connection lost .*; reconnecting/.test(terminal.output().stderr) || undefined, 'the drop noticed');
  proxy.restore();
  await terminal.waitFor(/done-42/, 'the end of the output, after reconnecting');

  // The typed command itself reads "n-$i"; only the shell's output has digits after "n-".
  const lines = terminal.output().stdout.match(/n-\d+/g) ?? [];
  t.deepEqual(
    lines,
    Array.from({ length: 40 }, (_, i) => `n-${i + 1}`),
    'nothing lost, nothing printed twice',
  );
  terminal.type('exit\n');
  const ended = await terminal.done;
  t.is(ended.code, 0, ended.stderr);
});

/**
 * `fairy env ssh` on a real terminal: a local tmux window plays the person's terminal emulator.
 * Raw mode shows in Ctrl-C reaching the remote shell (fairy itself keeps running); a resized window
 * reaches the remote PTY (SIGWINCH, then the protocol's resize), which stty reports (the remote tmux
 * keeps one row for its status line).
 */
async function inLocalTerminal(t: ExecutionContext, env: NodeJS.ProcessEnv, name: string) {
  const tmux = (...args: string[]) =>
    promisify(execFile)('tmux', ['-L', socketName, ...args], { env: { ...env, TERM: 'xterm-256color' } });
  const socketName = `fairy-cli-test-${randomBytes(4).toString('hex')}`;
  t.teardown(() => tmux('kill-server').catch(() => {}));
  // After fairy ends, the window's shell reports its terminal's modes and waits, so they can be read.
  const modes = 'stty -a | tr " ;" "\\n\\n" | grep -x -e icanon -e -icanon -e echo -e -echo | tr "\\n" " "';
  await tmux(
    'new-session',
    '-d',
    '-x',
    '100',
    '-y',
    '30',
    '/bin/sh',
    '-c',
    `"$0" "$@"; echo; echo "modes: $(${modes})"; read x`,
    process.execPath,
    FAIRY,
    'env',
    'ssh',
    name,
  );
  const screen = async () => (await tmux('capture-pane', '-p', '-t', '0')).stdout;
  const typeUntil = async (keys: string, pattern: RegExp, what: string, first: string[] = []) => {
    let asked = 0;
    await until(async () => {
      if (pattern.test(await screen())) return true;
      // The remote shell may not be ready for the first keys: ask again now and then. `first` goes on
      // its own, half a second ahead: what is typed with a Ctrl-C can be thrown away with the line.
      const turn = asked++ % 20;
      if (turn === 0 && first.length) await tmux('send-keys', '-t', '0', ...first);
      if (turn === (first.length ? 10 : 0)) await tmux('send-keys', '-t', '0', keys, 'Enter');
      return undefined;
    }, what);
  };
  await typeUntil('echo "size=$(stty size)="', /size=29 100=/, 'the remote size of a 100x30 terminal');
  await tmux('resize-window', '-t', '0', '-x', '120', '-y', '40');
  await typeUntil('echo "size=$(stty size)="', /size=39 120=/, 'the remote size after the window grew');
  await tmux('send-keys', '-t', '0', 'sleep 1000', 'Enter');
  // Ctrl-C goes before each try: one that reached the remote shell before sleep was in the foreground
  // interrupted nothing. Without raw mode it would end fairy itself, and nothing would come back.
  await typeUntil('echo "still-$((6*7))"', /still-42/, 'the shell after Ctrl-C, with fairy still attached', ['C-c']);

  // Killed in the middle of the session, fairy gives the local terminal back in its normal modes.
  const [shell] = (await tmux('list-panes', '-F', '#{pane_pid}')).stdout.trim().split('\n');
  const fairy = (await promisify(execFile)('pgrep', ['-P', shell ?? ''])).stdout.trim().split('\n')[0];
  process.kill(Number(fairy), 'SIGTERM');
  await until(async () => /modes: .*\S/.test(await screen()) || undefined, 'the modes after fairy was killed');
  const restored =
    /modes: (.*)/
      .exec(await screen())?.[1]
      ?.trim()
      .split(/\s+/) ?? [];
  t.deepEqual(restored.sort(), ['echo', 'icanon'], 'line editing and echo are back on');
}
