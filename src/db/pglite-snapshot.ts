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
 * A new in-memory PGlite spends seconds in initdb, far more than every migration together, and the
 * test suite starts one per test file. So `memory://` starts from a tarball of a database that
 * initdb made and this build's migrations migrated, made once and kept in the OS temp folder under
 * the digest of the migrations and of PGlite's build: a changed migration or PGlite makes a new one.
 */
export async function migratedPglite(PGliteClass: typeof PGlite): Promise<PGlite> {
  const file = join(tmpdir(), `fairyid-pglite-${await snapshotDigest()}.tar`);
  const existing = await readFile(file).catch(() => undefined);
  if (existing) return new PGliteClass({ loadDataDir: new Blob([existing]) });

  const fresh = new PGliteClass();
  const db = new Kysely<Database>({ dialect: new PGliteDialect(fresh) });
  await migrateToLatest(db);
  const tarball = Buffer.from(await (await fresh.dumpDataDir('none')).arrayBuffer());
  // Written aside and renamed: test files starting in parallel never read half a tarball.
  const partial = `${file}.${randomBytes(6).toString('hex')}`;
  await writeFile(partial, tarball);
  await rename(partial, file);
  return fresh;
}

async function snapshotDigest(): Promise<string> {
  const wasm = await stat(fileURLToPath(import.meta.resolve('@electric-sql/pglite/pglite.wasm')));
  return createHash('sha256')
    .update(`${wasm.size}:${wasm.mtimeMs}:${await migrationsDigest()}`)
    .digest('hex')
    .slice(0, 16);
}
