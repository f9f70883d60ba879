import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  entryFile,
  freePort,
  runToCompletion,
  startServerProcess,
  type Runtime,
  type ServerProcess,
} from './processes.ts';

/** The redirect URI of the bench's web client: nothing listens there; the code is read from the Location header. */
export const BENCH_REDIRECT_URI = 'http://127.0.0.1:9/callback';

export type ClientCredentials = { id: string; secret: string };
export type BenchClients = { web: ClientCredentials; machine: ClientCredentials; metadata: Record<string, unknown>[] };

type Cleanup = () => Promise<void>;

/** What the run needs to undo at the end, newest first. */
export class Cleanups {
  private readonly steps: Cleanup[] = [];
  add(step: Cleanup) {
    this.steps.unshift(step);
  }
  async run() {
    for (const step of this.steps.splice(0))
      await step().catch((error: unknown) => console.error('cleanup failed:', error));
  }
}

export type Storage = { env: Record<string, string>; description: string };

/**
 * FairyID's storage for this run: a fresh Postgres database (like test/helpers/database.ts) when
 * DATABASE_URL is set, and a Redis key prefix of the run's own when REDIS_URL is set; otherwise the
 * embedded PGlite database in a temporary DATA_DIR and in-process memory.
 */
export async function createStorage(cleanups: Cleanups): Promise<Storage> {
  const env: Record<string, string> = {};
  const parts: string[] = [];
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const name = `fairyid_bench_${randomBytes(6).toString('hex')}`;
    await withAdmin(adminUrl, (client) => client.query(`create database ${name}`));
    cleanups.add(() => withAdmin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)));
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.href;
    parts.push(`Postgres (database ${name})`);
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'fairyid-bench-'));
    cleanups.add(() => rm(dir, { recursive: true, force: true }));
    env.DATA_DIR = dir;
    parts.push(`embedded PGlite in ${dir}`);
  }
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl) {
    env.REDIS_URL = redisUrl;
    env.REDIS_PREFIX = `fairyid-bench:${randomBytes(6).toString('hex')}:`;
    cleanups.add(() => clearRedisPrefix(redisUrl, env.REDIS_PREFIX!));
    parts.push(`Redis (prefix ${env.REDIS_PREFIX})`);
  } else {
    parts.push('in-process memory for short-lived state');
  }
  return { env, description: parts.join(' + ') };
}

async function withAdmin(url: string, run: (client: pg.Client) => Promise<unknown>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

async function clearRedisPrefix(url: string, prefix: string) {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The environment FairyID (server and CLI) runs with; the caller's DATABASE_URL/DATA_DIR are replaced. */
function fairyEnv(storage: Storage, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, DATA_DIR: _dir, REDIS_URL: _redis, REDIS_PREFIX: _prefix, ...inherited } = process.env;
  // Every bench flow comes from 127.0.0.1: the per-IP sign-in budgets would stop the sign-in scenario.
  const headroom = { LIMIT_SENDS_PER_IP: '1000000/3600', LIMIT_CHECKS_PER_IP: '1000000/3600' };
  return {
    ...inherited,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DEMO_CLIENT: 'false',
    ...headroom,
    ...storage.env,
    ...extra,
  };
}

/**
 * Registers the bench's two clients through the operator CLI, before the server starts: the
 * embedded database admits one process at a time, so the CLI cannot run beside the server.
 */
export async function registerClients(runtime: Runtime, storage: Storage, root: string): Promise<BenchClients> {
  const cli = [entryFile(runtime, 'cli')];
  const add = async (args: string[]) => {
    const stdout = await runToCompletion([...cli, 'clients', 'add', ...args, '--json'], fairyEnv(storage), root);
    return JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as Record<string, unknown> & {
      client_id: string;
      client_secret: string;
    };
  };
  const web = await add(['--name', 'Bench Web', '--client-id', 'bench-web', '--redirect-uri', BENCH_REDIRECT_URI]);
  const machine = await add([
    '--name',
    'Bench Machine',
    '--client-id',
    'bench-machine',
    '--grant-type',
    'client_credentials',
    '--scope',
    'account:read',
  ]);
  return {
    web: { id: web.client_id, secret: web.client_secret },
    machine: { id: machine.client_id, secret: machine.client_secret },
    metadata: [web, machine],
  };
}

// The Node flags FairyID runs with in production: the Dockerfile's CMD and `npm start` pass the same
// (a smaller young generation: README, Performance, round five). The bench's own flags come after
// them, so BENCH_FAIRYID_NODE_ARGS or BENCH_COMPARE_NODE_ARGS="--max-semi-space-size=0" (V8's own
// default) overrides them.
const PRODUCTION_NODE_FLAGS = ['--max-semi-space-size=16'];

/**
 * One FairyID process on a free port. Its issuer is its own URL unless `issuer` is given: further
 * instances behind the same issuer (--instances) serve what the first one's URLs name.
 */
export async function startFairyId(options: {
  runtime: Runtime;
  storage: Storage;
  root: string;
  core: number | undefined;
  name?: string;
  issuer?: string;
}): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startServerProcess({
    name: options.name ?? 'FairyID',
    url,
    readyPath: '/health',
    // BENCH_FAIRYID_NODE_ARGS: extra Node flags for the FairyID servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
    // (Node refuses --cpu-prof in NODE_OPTIONS); BENCH_COMPARE_NODE_ARGS, when set, replaces them for
    // FairyID-B, so that one run measures what a flag costs.
    args: [
      ...PRODUCTION_NODE_FLAGS,
      ...(
        (options.name === 'FairyID-B' ? process.env.BENCH_COMPARE_NODE_ARGS : undefined) ??
        process.env.BENCH_FAIRYID_NODE_ARGS ??
        ''
      )
        .split(' ')
        .filter(Boolean),
      entryFile(options.runtime, 'main'),
    ],
    env: fairyEnv(options.storage, {
      HOST: '127.0.0.1',
      PORT: String(port),
      ISSUER: options.issuer ?? url,
      // NODE_ENV=test (the bench needs plain-http issuers and the development outbox) would also check
      // every /api answer against its schema, which production skips: measure what production runs.
      API_RESPONSE_CHECKS: 'false',
    }),
    cwd: options.root,
    core: options.core,
  });
}

/** The bare Koa "hello world" of bench/reference/koa-hello.ts, the baseline of the api_* scenarios. */
export async function startKoaHello(options: { root: string; core: number | undefined }): Promise<ServerProcess> {
  const port = await freePort();
  return startServerProcess({
    name: 'koa-hello',
    url: `http://127.0.0.1:${port}`,
    readyPath: '/',
    // BENCH_REFERENCE_NODE_ARGS here too: the baseline of the api_* ratios, profiled like the reference.
    args: [
      ...(process.env.BENCH_REFERENCE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      'bench/reference/koa-hello.ts',
    ],
    env: { PATH: process.env.PATH, NODE_ENV: 'test', PORT: String(port) },
    cwd: options.root,
    core: options.core,
  });
}

export type ReferenceServer = ServerProcess & {
  mint(count: number, clientId: string): Promise<{ access_token: string; refresh_token: string }[]>;
};

/** The bare oidc-provider of bench/reference/server.ts, with the same clients (metadata and secrets) as FairyID. */
export async function startReference(options: {
  clients: BenchClients;
  root: string;
  core: number | undefined;
  cleanups: Cleanups;
}): Promise<ReferenceServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminToken = randomBytes(24).toString('base64url');
  const clients = options.clients.metadata.map(({ first_party: _firstParty, ...metadata }) => metadata);
  const redisUrl = process.env.REDIS_URL;
  const redisEnv: Record<string, string> = {};
  if (redisUrl) {
    redisEnv.REDIS_URL = redisUrl;
    redisEnv.REDIS_PREFIX = `fairyid-bench-reference:${randomBytes(6).toString('hex')}:`;
    options.cleanups.add(() => clearRedisPrefix(redisUrl, redisEnv.REDIS_PREFIX!));
  }
  const server = await startServerProcess({
    name: 'reference',
    url,
    readyPath: '/.well-known/openid-configuration',
    // BENCH_REFERENCE_NODE_ARGS: the same for the reference, to profile both sides of a ratio.
    args: [...(process.env.BENCH_REFERENCE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), 'bench/reference/server.ts'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      ISSUER: url,
      BENCH_ADMIN_TOKEN: adminToken,
      BENCH_CLIENTS: JSON.stringify(clients),
      ...redisEnv,
    },
    cwd: options.root,
    core: options.core,
  });
  return {
    ...server,
    async mint(count, clientId) {
      const response = await fetch(`${url}/bench-admin/mint`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ count, clientId }),
      });
      if (!response.ok) throw new Error(`reference mint failed: ${response.status} ${await response.text()}`);
      return (await response.json()) as { access_token: string; refresh_token: string }[];
    },
  };
}
