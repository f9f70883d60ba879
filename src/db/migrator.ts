import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely/migration';
import { sql } from 'kysely';
import type { Db } from './database.ts';

// Resolves to migrations/ both from src/db (`npm start`, Node's type stripping) and from dist/src/db (compiled build).
const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);

async function migrationFiles(): Promise<string[]> {
  return (await readdir(fileURLToPath(MIGRATIONS_DIR)))
    .filter((file) => /^\d.*\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .sort();
}

const migrationName = (file: string) => file.replace(/\.(ts|js)$/, '');

class FolderMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of await migrationFiles()) {
      migrations[migrationName(file)] = (await import(new URL(file, MIGRATIONS_DIR).href)) as Migration;
    }
    return migrations;
  }
}

/** Changes whenever a migration file is added or changed (the embedded snapshot's key, pglite-snapshot.ts). */
export async function migrationsDigest(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(fileURLToPath(MIGRATIONS_DIR))).sort();
  for (const file of files) hash.update(file).update(await readFile(new URL(file, MIGRATIONS_DIR)));
  return hash.digest('hex');
}

/** The newest migration this build ships: the schema it needs. */
export async function latestMigrationName(): Promise<string> {
  const latest = (await migrationFiles()).at(-1);
  if (!latest) throw new Error('no migrations found');
  return migrationName(latest);
}

/**
 * Whether the database holds the schema this build needs. A newer instance may have migrated past
 * it during a rolling deploy, which is fine (migrations only add); a database dropped and created
 * again has no migration table at all, and every route would fail on it.
 */
export async function hasMigration(db: Db, name: string): Promise<boolean> {
  const table = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(
    db,
  );
  if (table.rows[0]?.present !== true) return false;
  const { rows } = await sql<{
    found: boolean;
  }>`select exists (select 1 from kysely_migration where name = ${name}) as found`.execute(db);
  return rows[0]?.found === true;
}

export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  // Kysely's Migrator reads the whole catalog and takes its lock before it finds nothing to do, over
  // a second on the embedded database at every start and CLI command. It applies migrations in
  // order, so the newest one recorded means every one is.
  if (await hasMigration(db, await latestMigrationName())) return { results: [] };
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider() });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
