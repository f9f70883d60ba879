import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { type TestClock, testClock } from './clock.ts';
import type { ServerOverrides } from '../../src/services.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

// Every test client is 127.0.0.1, so the per-IP budgets would be shared by a whole file's flows;
// tests of those budgets set them explicitly.
const PER_IP_HEADROOM = { LIMIT_SENDS_PER_IP: '10000/3600', LIMIT_CHECKS_PER_IP: '10000/3600' };

/** `clock` moves the server's time forward (lockouts, code expiry, resend waits) without sleeping. */
export type TestServer = { url: string; app: App; clock: TestClock; stop(): Promise<void> };

/** A Redis key prefix of the test file's own, so files run in parallel on one Redis. */
export function testRedisEnv(): Record<string, string> {
  const url = process.env.REDIS_URL;
  return url ? { REDIS_URL: url, REDIS_PREFIX: `fairyid-test:${randomBytes(6).toString('hex')}:` } : {};
}

/**
 * Starts the real app on a loopback port (any free one unless `port` is given). The issuer names
 * that port unless `issuer` is given, as it is for instances sharing one issuer behind a balancer.
 */
export async function startServer(
  env: Record<string, string>,
  options: {
    port?: number;
    issuer?: string;
    hostname?: 'localhost';
    log?: Logger;
    /** What the app takes from a test beyond configuration: a clock shared by instances, a driver. */
    overrides?: Omit<ServerOverrides, 'clock'> & { clock?: TestClock };
  } = {},
): Promise<TestServer> {
  const clock = options.overrides?.clock ?? testClock();
  const server: Server = createServer();
  // As in main.ts: idle keep-alive connections outlive the client's, so a reused one is never closing.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: some tests open a thousand connections at once, past Node's default 511.
    server.listen(options.port ?? 0, '127.0.0.1', 4096, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // WebAuthn needs a domain for its relying party id, and an IP address is none: passkey tests use localhost.
  const url = `http://${options.hostname ?? '127.0.0.1'}:${port}`;
  try {
    const issuer = options.issuer ?? url;
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      ...PER_IP_HEADROOM,
      ...env,
      ISSUER: issuer,
      PORT: String(port),
    });
    const app = await createApp(config, options.log, { ...options.overrides, clock });
    server.on('request', app.koa.callback());
    server.on('upgrade', (req, socket, head) => void app.upgrade(req, socket, head));
    return {
      url,
      app,
      clock,
      async stop() {
        await app.terminals.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await app.close();
      },
    };
  } catch (error) {
    server.close();
    throw error;
  }
}

/**
 * The usual set-up for a test file: its own database and Redis prefix, one server, and cleanup
 * registered with ava.
 */
export async function startTestServer(
  t: ExecutionContext,
  options: {
    env?: Record<string, string>;
    database?: TestDatabase;
    hostname?: 'localhost';
    /** The app's logger (a test that reads the log lines passes one writing to memory). */
    log?: Logger;
    /** The server's clock, when the test needs one other than real time plus its moves. */
    clock?: TestClock;
  } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const redis = testRedisEnv();
  const server = await startServer(
    { ...database.env, ...redis, ...options.env },
    {
      ...(options.hostname ? { hostname: options.hostname } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.clock ? { overrides: { clock: options.clock } } : {}),
    },
  );
  t.teardown(async () => {
    await server.stop();
    if (!options.database) await database.drop();
    await clearRedisPrefix(redis);
  });
  return server;
}

export async function clearRedisPrefix(redis: Record<string, string>) {
  if (!redis.REDIS_URL || !redis.REDIS_PREFIX) return;
  const client = new Redis(redis.REDIS_URL);
  try {
    const keys = await client.keys(`${redis.REDIS_PREFIX}*`);
    if (keys.length) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}

/**
 * For restart tests: a persisted database and a Redis prefix that outlive each server. `start()`
 * stops whatever runs and starts a server on them; everything is cleaned up with ava.
 */
export async function persistedServers(t: ExecutionContext, env: Record<string, string> = {}) {
  const database = await createTestDatabase({ persisted: true });
  // The same Redis prefix on every run: a restart keeps Redis, as it keeps the database.
  const shared = { ...database.env, ...testRedisEnv(), ...env };
  let running: TestServer | undefined;
  const stop = async () => {
    await running?.stop();
    running = undefined;
  };
  t.teardown(async () => {
    await stop();
    await database.drop();
    await clearRedisPrefix(shared);
  });
  return {
    env: shared,
    stop,
    async start(extra: Record<string, string> = {}, options: { port?: number } = {}) {
      await stop();
      running = await startServer({ ...shared, ...extra }, options);
      return running;
    },
  };
}

/**
 * Two instances of one issuer on one Postgres and one Redis, as behind a load balancer: `b` serves
 * `a`'s issuer. One clock (the test's, if given) runs both; everything is cleaned up with ava.
 */
export async function twoInstances(
  t: ExecutionContext,
  env: Record<string, string> = {},
  options: { clock?: TestClock } = {},
) {
  const database = await createTestDatabase();
  const redis = testRedisEnv();
  const shared = { ...database.env, ...redis, ...env };
  const clock = options.clock ?? testClock();
  const a = await startServer(shared, { overrides: { clock } });
  const b = await startServer(shared, { issuer: a.url, overrides: { clock } });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
    await database.drop();
    await clearRedisPrefix(redis);
  });
  return { a, b, clock };
}
