import { Kysely, PostgresDialect, sql, type Dialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { describeEndpoint, StartupError } from '../shared/startup-error.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { migratedPglite } from './pglite-snapshot.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/** A Postgres pool's state right now; the embedded database has no pool. */
export type PoolStats = { max: number; total: number; idle: number; waiting: number };

const pools = new WeakMap<Db, pg.Pool>();

/** For the metrics: connections open, idle and awaited in the pool behind `db`, if it has one. */
export function poolStats(db: Db): PoolStats | undefined {
  const pool = pools.get(db);
  if (!pool) return undefined;
  return { max: pool.options.max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * Statements run on nearly every token request (the OIDC adapter's): each is parsed and planned
 * once per connection, as a named prepared statement, instead of on every run. Measured on a busy
 * 2-core machine, that took a refresh's Postgres backend CPU from about 700 to 430 µs (README,
 * Performance, round six); on a machine shared by the server and Postgres, that CPU is the server's.
 * Only statements whose text is fixed belong here: one name per text, on every connection.
 */
const statementNames = new Map<string, string>();

/** Runs `sqlText` as a named prepared statement from now on, where the database allows it. */
export function prepareOnEveryConnection(sqlText: string) {
  if (!statementNames.has(sqlText)) statementNames.set(sqlText, `fairyid_${statementNames.size}`);
}

/** kysely's Postgres driver calls `query(text, values)`: a registered text goes out named. */
function nameRegisteredStatements(client: pg.PoolClient) {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' ? statementNames.get(text) : undefined;
    return name ? query({ name, text, values: rest[0] }, ...rest.slice(1)) : query(text, ...rest);
  }) as typeof client.query;
}

/** The configuration's, where named statements are on unless said otherwise. */
type DatabaseOptions =
  | (Omit<Extract<Config['database'], { url: string }>, 'preparedStatements'> & { preparedStatements?: boolean })
  | Extract<Config['database'], { dataDir: string }>;

/** Real Postgres when DATABASE_URL is set; otherwise PGlite on disk (or in memory for `memory://`). */
export async function createDatabase(database: DatabaseOptions, log?: Logger): Promise<Db> {
  const dialect = await dialectFor(database, log);
  const db = new Kysely<Database>({ dialect: dialect.dialect });
  if (dialect.pool) pools.set(db, dialect.pool);
  if ('url' in database) await ensureReachable(db, database.url);
  return db;
}

/** Fails the start at once, in one line that names DATABASE_URL, rather than at the first migration. */
async function ensureReachable(db: Db, url: string) {
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(`Cannot reach Postgres at DATABASE_URL (${describeEndpoint(url)}): ${reason}`);
  }
}

/**
 * pg-pool's two timeouts: no connection came free within connectionTimeoutMillis (every one is busy
 * under a burst), or connecting took that long. Both pass; the request may be tried again.
 */
export function isDatabaseBusy(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return (
    message === 'timeout exceeded when trying to connect' ||
    message === 'Connection terminated due to connection timeout'
  );
}

async function dialectFor(database: DatabaseOptions, log?: Logger): Promise<{ dialect: Dialect; pool?: pg.Pool }> {
  if ('url' in database) {
    // A blackholed host fails the start (or a request) after the wait instead of hanging.
    const pool = new pg.Pool({
      connectionString: database.url,
      max: database.poolSize,
      connectionTimeoutMillis: database.poolWaitMs,
    });
    // The server closing an idle connection (a restart, a failover, pg_terminate_backend) surfaces as
    // a pool 'error' event, which crashes the process when nobody listens. The pool has already
    // dropped that client and connects afresh for the next query, so noting it is enough.
    pool.on('error', (error) => log?.warn({ err: error }, 'idle database connection lost'));
    if (database.preparedStatements ?? true) pool.on('connect', nameRegisteredStatements);
    return { dialect: new PostgresDialect({ pool }), pool };
  }
  // Loaded on demand: the WASM build is only paid for by the embedded mode.
  const { PGlite } = await import('@electric-sql/pglite');
  if (database.dataDir === 'memory://') return { dialect: new PGliteDialect(await migratedPglite(PGlite)) };
  return { dialect: new PGliteDialect(new PGlite(database.dataDir)) };
}
