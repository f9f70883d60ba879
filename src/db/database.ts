import { Kysely, PostgresDialect, type Dialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/** Real Postgres when DATABASE_URL is set; otherwise PGlite on disk (or in memory for `memory://`). */
export async function createDatabase(database: Config['database']): Promise<Db> {
  return new Kysely<Database>({ dialect: await dialectFor(database) });
}

async function dialectFor(database: Config['database']): Promise<Dialect> {
  if ('url' in database) {
    return new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 10 }) });
  }
  // Loaded on demand: the WASM build is only paid for by the embedded mode.
  const { PGlite } = await import('@electric-sql/pglite');
  const dataDir = database.dataDir === 'memory://' ? undefined : database.dataDir;
  return new PGliteDialect(new PGlite(dataDir));
}
