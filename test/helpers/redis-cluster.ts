import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const redisServerAvailable = spawnSync('redis-server', ['--version']).status === 0;

/**
 * A real three-master Redis Cluster on loopback ports, made with redis-server and
 * `redis-cli --cluster create`, for tests of the cluster mode.
 */
export async function startRedisCluster(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-cluster-'));
  // Cluster bus ports are the client port + 10000. Both stay below Linux's ephemeral range (32768 and
  // up), where a port picked at random may already hold a connection or another test's listener.
  const base = 10000 + Math.floor(Math.random() * 12000);
  const ports = [base, base + 1, base + 2];
  for (const port of ports) {
    const started = spawnSync('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
      '--logfile',
      join(dir, `${port}.log`),
    ]);
    if (started.status !== 0) throw new Error(`redis-server on ${port} failed: ${started.stderr}`);
  }
  const stop = async () => {
    for (const port of ports) spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await Promise.all(ports.map(ping))).every(Boolean));
    const create = spawn('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const code = await new Promise<number | null>((resolve) => create.on('exit', resolve));
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
    await waitFor(async () => (await Promise.all(ports.map(clusterOk))).every(Boolean));
    return { url: `redis://127.0.0.1:${base}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function ping(port: number) {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function clusterOk(port: number) {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    return (await client.cluster('INFO')).includes('cluster_state:ok');
  } finally {
    client.disconnect();
  }
}

// A minute means hung, not slow: forming the cluster takes seconds on a busy two-core machine.
async function waitFor(check: () => Promise<boolean>) {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('Redis Cluster did not become ready');
}
