import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { migrateToLatest, migrationsDigest } from './migrator.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

/**
 * How the snapshot is made; part of its file name, so a changed recipe never loads an older tarball.
 * Every byte of the tarball is copied into WASM memory at each start, so it is kept small: 1 MiB WAL
 * segments instead of 16 (the default left a 16 MiB segment, over a third of the tarball), no
 * template databases (nothing creates a database in PGlite; each one is a catalog of 8 MiB), and a
 * checkpoint with WAL recycling off, so no spent segment is kept and a start replays no WAL.
 */
const RECIPE = 'wal-1m:no-templates:checkpointed';

/**
 * An in-memory database needs no large buffer pool: its pages already live in memory, and setting
 * up Postgres's default 128 MiB pool is a tenth of each start's CPU.
 */
const START_PARAMS = ['-c', 'shared_buffers=16MB'];

/**
 * A new in-memory PGlite spends seconds in initdb, far more than every migration together, and the
 * test suite starts one per server. So `memory://` starts from a tarball of a database that initdb
 * made and this build's migrations migrated, made once and kept in the OS temp folder under the
 * digest of the migrations, of PGlite's build and of the recipe: a change to any makes a new one.
 * A process reads the tarball once and starts each of its databases from the same bytes.
 */
export async function migratedPglite(PGliteClass: typeof PGlite): Promise<PGlite> {
  const made = await theSnapshot(PGliteClass);
  const fresh = made.fresh;
  made.fresh = undefined;
  return fresh ?? new PGliteClass({ loadDataDir: made.tarball, startParams: startParams(PGliteClass) });
}

/**
 * Fills an empty folder with the migrated snapshot, as if a PGlite had been opened on it and
 * migrated: for tests whose database must outlive a process (restarts, the CLI), which would
 * otherwise pay initdb on their first start. The server opens it as any other data folder.
 */
export async function seedDataDir(PGliteClass: typeof PGlite, dataDir: string): Promise<void> {
  const { tarball } = await theSnapshot(PGliteClass);
  const seeded = new PGliteClass(dataDir, { loadDataDir: tarball });
  await seeded.waitReady;
  await seeded.close();
}

/** The tarball, and the database it was made from when this process made it (handed to the first caller). */
type Snapshot = { tarball: Blob; fresh?: PGlite };

let snapshot: Promise<Snapshot> | undefined;

function theSnapshot(PGliteClass: typeof PGlite): Promise<Snapshot> {
  snapshot ??= loadOrMake(PGliteClass).catch((error: unknown) => {
    // A failed attempt (a full disk, say) is not remembered: the next database tries again.
    snapshot = undefined;
    throw error;
  });
  return snapshot;
}

async function loadOrMake(PGliteClass: typeof PGlite): Promise<Snapshot> {
  const file = join(tmpdir(), `fairyid-pglite-${await snapshotDigest()}.tar`);
  const existing = await readFile(file).catch(() => undefined);
  if (existing) return { tarball: new Blob([existing]) };

  const fresh = new PGliteClass({ initDbStartParams: ['--wal-segsize=1'], startParams: startParams(PGliteClass) });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(fresh) });
  await migrateToLatest(db);
  await fresh.exec(`update pg_database set datistemplate = false where datname in ('template0', 'template1')`);
  await fresh.exec('drop database template0');
  await fresh.exec('drop database template1');
  await fresh.exec('set wal_recycle = off');
  await fresh.exec('checkpoint');
  const tarball = await fresh.dumpDataDir('none');
  // Written aside and renamed: test files starting in parallel never read half a tarball.
  const partial = `${file}.${randomBytes(6).toString('hex')}`;
  await writeFile(partial, Buffer.from(await tarball.arrayBuffer()));
  await rename(partial, file);
  return { tarball, fresh };
}

const startParams = (PGliteClass: typeof PGlite) => [...PGliteClass.defaultStartParams, ...START_PARAMS];

async function snapshotDigest(): Promise<string> {
  const wasm = await stat(fileURLToPath(import.meta.resolve('@electric-sql/pglite/pglite.wasm')));
  return createHash('sha256')
    .update(`${RECIPE}:${wasm.size}:${wasm.mtimeMs}:${await migrationsDigest()}`)
    .digest('hex')
    .slice(0, 16);
}
