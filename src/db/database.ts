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

/** Real Postgres when DATABASE_URL is set; otherwise PGlite on disk (or in memory for `memory://`). */
export async function createDatabase(database: Config['database'], log?: Logger): Promise<Db> {
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

async function dialectFor(database: Config['database'], log?: Logger): Promise<{ dialect: Dialect; pool?: pg.Pool }> {
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
    return { dialect: new PostgresDialect({ pool }), pool };
  }
  // Loaded on demand: the WASM build is only paid for by the embedded mode.
  const { PGlite } = await import('@electric-sql/pglite');
  if (database.dataDir === 'memory://') return { dialect: new PGliteDialect(await migratedPglite(PGlite)) };
  return { dialect: new PGliteDialect(new PGlite(database.dataDir)) };
}
