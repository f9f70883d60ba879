import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { seedDataDir } from '../../src/db/pglite-snapshot.ts';

export type TestDatabase = { env: Record<string, string>; drop(): Promise<void> };

/**
 * A database of the test file's own: a fresh Postgres database when DATABASE_URL is set (as in
 * CI), otherwise embedded PGlite, in memory or, with `persisted`, in a temporary folder that
 * survives a server restart, seeded with the migrated snapshot the in-memory ones start from.
 */
export async function createTestDatabase(options: { persisted?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const name = `fairyid_test_${randomBytes(6).toString('hex')}`;
    await withAdmin(adminUrl, (client) => client.query(`create database ${name}`));
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.href },
      drop: () => withAdmin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)),
    };
  }
  if (!options.persisted) return { env: { DATA_DIR: 'memory://' }, drop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-test-'));
  // Already migrated, so the first server or CLI command on it skips seconds of initdb.
  await seedDataDir((await import('@electric-sql/pglite')).PGlite, dir);
  return { env: { DATA_DIR: dir }, drop: () => rm(dir, { recursive: true, force: true }) };
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
