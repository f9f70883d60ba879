import test from 'ava';
import { sql } from 'kysely';
import { createDatabase, prepareOnEveryConnection } from '../../src/db/database.ts';

// Named statements are a Postgres session's; the embedded database has no pool to name them on.
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

async function preparedAfterTwoRuns(preparedStatements: boolean) {
  // One connection, so the second run and the catalog query share the session that prepared it.
  const db = await createDatabase({
    url: process.env.DATABASE_URL!,
    poolSize: 1,
    poolWaitMs: 5000,
    preparedStatements,
  });
  try {
    const query = sql<{ answer: number }>`select ${41}::int + 1 as answer`;
    const text = query.compile(db).sql;
    prepareOnEveryConnection(text);
    const answers = [(await query.execute(db)).rows[0]?.answer, (await query.execute(db)).rows[0]?.answer];
    const { rows } = await sql<{
      name: string;
    }>`select name from pg_prepared_statements where statement = ${text}`.execute(db);
    return { answers, names: rows.map((row) => row.name) };
  } finally {
    await db.destroy();
  }
}

onPostgres('a registered statement is prepared once on its connection and runs named after that', async (t) => {
  const { answers, names } = await preparedAfterTwoRuns(true);
  t.deepEqual(answers, [42, 42]);
  t.is(names.length, 1);
  t.regex(names[0]!, /^fairyid_\d+$/);
});

onPostgres(
  'with DATABASE_PREPARED_STATEMENTS=false nothing is prepared, for a PgBouncer that cannot keep it',
  async (t) => {
    const { answers, names } = await preparedAfterTwoRuns(false);
    t.deepEqual(answers, [42, 42]);
    t.deepEqual(names, []);
  },
);
