import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
 * checkpoint with WAL recycling off, so no spent segment is kept and a start replays no WAL, and
 * none of the segments initdb recycled ahead of the one in use.
 */
const RECIPE = 'wal-1m:no-templates:checkpointed:no-future-wal';

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
 * otherwise pay initdb on their first start. The server opens it as any other data folder, and
 * its first start finds what an in-memory start from the tarball finds. The files are written
 * straight from the tarball, as PGlite's `loadDataDir` writes them, without starting Postgres on
 * them: 0.05 s of CPU instead of about 0.6.
 */
export async function seedDataDir(PGliteClass: typeof PGlite, dataDir: string): Promise<void> {
  const { tarball } = await theSnapshot(PGliteClass);
  const bytes = new Uint8Array(await tarball.arrayBuffer());
  for (const entry of tarEntries(bytes)) {
    const path = join(dataDir, entry.name);
    if (entry.data) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, entry.data);
    } else {
      await mkdir(path, { recursive: true });
    }
  }
}

/**
 * The entries of a ustar archive as PGlite's `dumpDataDir` writes it: folders and regular files,
 * named from the data folder's root. Anything else (a link, a name leaving the folder) is refused:
 * the tarball is always our own, so that would mean a damaged file.
 */
function* tarEntries(bytes: Uint8Array): Generator<TarEntry> {
  const text = (from: number, length: number) =>
    new TextDecoder().decode(bytes.subarray(from, from + length)).replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= bytes.length; ) {
    const name = text(at, 100);
    if (!name) return;
    const prefix = text(at + 345, 155);
    const full = prefix ? `${prefix}/${name}` : name;
    const size = Number.parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = text(at + 156, 1) || '0';
    if ((type !== '0' && type !== '5') || full.split('/').includes('..') || Number.isNaN(size)) {
      throw new Error(`Unexpected entry in the PGlite snapshot: ${full} (type ${type})`);
    }
    const end = at + 512 + Math.ceil(size / 512) * 512;
    const block = bytes.subarray(at, end);
    yield type === '5' ? { name: full, block } : { name: full, block, data: bytes.subarray(at + 512, at + 512 + size) };
    at = end;
  }
}

/** A tar entry: its name, its header and data blocks as they stand in the archive, and a file's bytes. */
type TarEntry = { name: string; block: Uint8Array; data?: Uint8Array };

/**
 * The tarball without the WAL segments after `current`: initdb leaves segments it recycled ahead of
 * the one in use (4 MiB of old records, a quarter of the tarball), which no start reads: recovery
 * stops at the first page that is not the next one, and Postgres makes a new segment when it needs one.
 */
function withoutFutureWal(bytes: Uint8Array, current: string): Uint8Array {
  const kept = [...tarEntries(bytes)].filter(({ name }) => {
    const segment = /^\/?pg_wal\/([0-9A-F]{24})$/.exec(name)?.[1];
    return !segment || segment <= current;
  });
  // Two empty blocks end an archive.
  const out = new Uint8Array(kept.reduce((sum, { block }) => sum + block.length, 0) + 1024);
  let at = 0;
  for (const { block } of kept) {
    out.set(block, at);
    at += block.length;
  }
  return out;
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
  const { rows } = await fresh.query<{ segment: string }>('select pg_walfile_name(pg_current_wal_lsn()) as segment');
  const dumped = new Uint8Array(await (await fresh.dumpDataDir('none')).arrayBuffer());
  const current = rows[0]?.segment;
  if (!current) throw new Error('PGlite named no current WAL segment');
  const bytes = withoutFutureWal(dumped, current);
  // Written aside and renamed: test files starting in parallel never read half a tarball.
  const partial = `${file}.${randomBytes(6).toString('hex')}`;
  await writeFile(partial, bytes);
  await rename(partial, file);
  return { tarball: new Blob([bytes]), fresh };
}

const startParams = (PGliteClass: typeof PGlite) => [...PGliteClass.defaultStartParams, ...START_PARAMS];

async function snapshotDigest(): Promise<string> {
  const wasm = await stat(fileURLToPath(import.meta.resolve('@electric-sql/pglite/pglite.wasm')));
  return createHash('sha256')
    .update(`${RECIPE}:${wasm.size}:${wasm.mtimeMs}:${await migrationsDigest()}`)
    .digest('hex')
    .slice(0, 16);
}
