import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { startLocalMachine } from '../../src/environments/local-machine.ts';
import type { SshTarget } from '../../src/environments/terminal/ssh-shell.ts';
import { machineCloudConfig, newKeyPair } from './machines.ts';

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real OpenSSH server on 127.0.0.N from the same cloud-config a droplet gets (the env domain's
 * local machine), with its generated client and host keys: what the terminal connects to.
 */
export async function startTerminalMachine(t: ExecutionContext): Promise<SshTarget & { stop(): Promise<void> }> {
  const client = newKeyPair('fairyid-terminal-test');
  const hostKey = newKeyPair('host-terminal-test');
  const host = `127.0.0.${2 + Math.floor(Math.random() * 250)}`;
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-terminal-'));
  const machine = await startLocalMachine({
    cloudConfig: machineCloudConfig({
      client,
      host: hostKey,
      phoneHomeUrl: 'http://127.0.0.1:9/none',
      volumeName: 'v',
    }),
    host,
    port: await freePort(host),
    volumeDir: join(dir, 'volume'),
    runDir: join(dir, 'run'),
    instanceId: 'terminal-test',
    hostname: 'terminal-test',
    phoneHomeIntervalMs: 10,
  });
  // runcmd starts the template's tmux session; the terminal attaches to it.
  await machine.finished;
  const stop = async () => {
    await machine.stop();
    await rm(dir, { recursive: true, force: true });
  };
  t.teardown(stop);
  return {
    host,
    port: machine.port,
    username: machine.user,
    privateKey: client.private,
    hostPublicKey: hostKey.public,
    stop,
  };
}
