import type { ExecutionContext } from 'ava';
import { createDatabase, type Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { createTestDatabase } from './database.ts';

/** The test's own migrated database, without a server: for services tested without HTTP. */
export async function migratedDatabase(t: ExecutionContext): Promise<Db> {
  const database = await createTestDatabase();
  const db = await createDatabase(
    database.env.DATABASE_URL
      ? { url: database.env.DATABASE_URL, poolSize: 10, poolWaitMs: 60_000 }
      : { dataDir: database.env.DATA_DIR! },
  );
  t.teardown(async () => {
    await db.destroy();
    await database.drop();
  });
  await migrateToLatest(db);
  return db;
}
