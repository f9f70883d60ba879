import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { type LocalMachineOptions, sshBanner, startLocalMachine } from '../../../src/environments/local-machine.ts';
import { machineCloudConfig, newKeyPair, sshExec, until } from '../../helpers/machines.ts';

const fixture = join(import.meta.dirname, 'fixtures', 'machine-process.ts');

async function freePort() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function machineOptions(t: ExecutionContext) {
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-local-machine-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const client = newKeyPair('client');
  const host = newKeyPair('host');
  const options: LocalMachineOptions = {
    // No phone_home receiver here: the URL is never listened on, and one try is enough.
    cloudConfig: machineCloudConfig({ client, host, volumeName: 'v', phoneHomeUrl: 'http://127.0.0.1:9/' }).replace(
      'tries: 10',
      'tries: 1',
    ),
    host: '127.0.0.1',
    port: await freePort(),
    volumeDir: join(dir, 'volume'),
    runDir: join(dir, 'run'),
    instanceId: 'i-1',
    hostname: 'machine',
  };
  return { options, client, host };
}

/** A process that exited but was not reaped (its parent is an init that does not reap) is a zombie, not running. */
function running(pid: number) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Runs the fixture process and resolves once its machine is up. */
function machineProcess(options: LocalMachineOptions, ending: 'exit' | 'wait') {
  const child = spawn(process.execPath, [fixture, JSON.stringify(options), ending], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const up = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('up') && resolve());
    child.once('exit', (code) => reject(new Error(`the machine process exited early (${code})`)));
  });
  up.catch(() => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, up, exited };
}

test('a process that exits without stopping its machine takes the machine with it', async (t) => {
  const { options } = await machineOptions(t);
  const machine = machineProcess(options, 'exit');
  await machine.up;
  await machine.exited;
  t.false(await sshBanner(options.host, options.port));
});

test('a machine left behind by a killed process is ended when the same machine starts again', async (t) => {
  const { options, client, host } = await machineOptions(t);
  const crashed = machineProcess(options, 'wait');
  await crashed.up;
  const ssh = (command: string) =>
    sshExec({
      host: options.host,
      port: options.port,
      username: process.getuid?.() === 0 ? 'devpocket' : (process.env.USER ?? 'root'),
      privateKey: client.private,
      hostPublicKey: host.public,
      command,
    });
  // runcmd started a tmux server in the machine; it must die with the machine, not linger.
  const tmuxPid = Number((await ssh('tmux display-message -p "#{pid}"')).output.trim());
  t.true(tmuxPid > 1);
  crashed.child.kill('SIGKILL');
  await crashed.exited;
  // The orphaned sshd still holds the address...
  t.true(await sshBanner(options.host, options.port));

  // ...until the machine starts again from the same run folder, on the same address.
  const machine = await startLocalMachine(options);
  t.teardown(() => machine.stop());
  await machine.finished;
  const result = await until(() => ssh('echo up').catch(() => undefined), 'an SSH session on the restarted machine');
  t.is(result.output.trim(), 'up');
  t.false(running(tmuxPid), "the crashed machine's tmux server is gone");
  await machine.stop();
  t.false(await sshBanner(options.host, options.port));
});
