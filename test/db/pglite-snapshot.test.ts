import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import test from 'ava';
import { migratedPglite, seedDataDir } from '../../src/db/pglite-snapshot.ts';

// The snapshot keeps only the WAL segment in use: a database started from it must make the next
// segments itself, in memory and in a seeded folder, and find its writes again after a restart.

/** About 3 MiB of WAL: three 1 MiB segments past the one the snapshot has. */
async function writeMuchWal(db: PGlite) {
  await db.exec('create table filler (id serial primary key, body text)');
  await db.exec(`insert into filler (body) select repeat('x', 1000) from generate_series(1, 3000)`);
  await db.exec('checkpoint');
}

test('a database started from the snapshot is migrated and writes past its first WAL segment', async (t) => {
  const db = await migratedPglite(PGlite);
  t.teardown(() => db.close());
  t.true((await db.query<{ n: number }>('select count(*)::int as n from kysely_migration')).rows[0]!.n > 0);
  const before = (await db.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
  await writeMuchWal(db);
  const after = await db.query<{ moved: number; rows: number }>(
    `select pg_wal_lsn_diff(pg_current_wal_lsn(), '${before}')::int as moved, (select count(*)::int from filler) as rows`,
  );
  t.true(after.rows[0]!.moved > 3 * 1024 * 1024, 'the writes went past the segments the snapshot has');
  t.is(after.rows[0]!.rows, 3000);
});

test('a seeded folder opens migrated, and keeps what was written across a restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-snapshot-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await seedDataDir(PGlite, dir);
  t.true((await readdir(join(dir, 'pg_wal'))).some((name) => /^[0-9A-F]{24}$/.test(name)));

  const first = new PGlite(dir);
  await first.exec(`insert into accounts (id, email, fairyname) values ('a', 'a@example.com', 'seed_test_0001')`);
  await writeMuchWal(first);
  await first.close();

  const second = new PGlite(dir);
  t.teardown(() => second.close());
  const { rows } = await second.query<{ accounts: number; filler: number }>(
    'select (select count(*)::int from accounts) as accounts, (select count(*)::int from filler) as filler',
  );
  t.deepEqual(rows[0], { accounts: 1, filler: 3000 });
});
