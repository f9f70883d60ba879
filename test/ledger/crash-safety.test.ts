import { randomUUID } from 'node:crypto';
import { startServerProcess } from '../helpers/server-process.ts';
import test from 'ava';
import { sql } from 'kysely';
import { apiToken } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startServer, testRedisEnv } from '../helpers/server.ts';

// Killing a process mid-write is a claim about Postgres' durability; PGlite in a folder makes no
// such promise, so this runs where CI runs it: on real Postgres.
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

const BURST = 400;

onPostgres('a server killed in the middle of a burst of charges leaves no half-written transaction', async (t) => {
  const database = await createTestDatabase();
  const redis = testRedisEnv();
  const env = { ...database.env, ...redis };
  t.teardown(() => database.drop());

  // Set up in process: a person with 525 DUST and an API token, on the port the child will take over.
  const setup = await startServer(env);
  const token = await apiToken(setup, 'crash@example.com', ['dust:read', 'dust:spend']);
  const accountId = (await setup.app.services.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
  await setup.app.services.ledger.purchase({
    accountId,
    amount: 500,
    reference: 'crash-test-top-up',
    description: 'top-up',
  });
  await setup.stop();

  const { child, exited } = await startServerProcess(env, setup.url);

  const keys = Array.from({ length: BURST }, () => randomUUID());
  const send = (key: string) =>
    fetch(`${setup.url}/api/dust/charges`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ amount: 1, description: 'burst' }),
    }).then(
      (response) => response.status,
      () => 'no answer' as const,
    );
  let answered = 0;
  const burst = keys.map((key) =>
    send(key).then((status) => {
      answered += 1;
      if (answered === 40) child.kill('SIGKILL');
      return status;
    }),
  );
  const statuses = await Promise.all(burst);
  await exited;
  const confirmed = statuses.filter((status) => status === 201).length;
  t.true(statuses.includes('no answer'), 'the kill interrupted requests in flight');

  const after = await startServer(env, { port: Number(new URL(setup.url).port) });
  t.teardown(() => after.stop());
  const { db, ledger } = after.app.services;
  t.deepEqual(await ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
  const charges = async () =>
    Number(
      (
        await db
          .selectFrom('ledger_transactions')
          .select(sql<number>`count(*)::int`.as('n'))
          .where('kind', '=', 'charge')
          .executeTakeFirstOrThrow()
      ).n,
    );
  const booked = await charges();
  t.true(booked >= confirmed, 'every confirmed charge is in the ledger');
  t.is(await ledger.balance('person', accountId), 525 - booked);

  // Retrying every request with its key books each at most once, whatever the crash did. In groups of
  // 20: all 400 at once can wait out the connection pool on a loaded machine and be answered 503,
  // which says nothing about the crash.
  const retried: Awaited<ReturnType<typeof send>>[] = [];
  for (let start = 0; start < keys.length; start += 20)
    retried.push(...(await Promise.all(keys.slice(start, start + 20).map(send))));
  t.true(retried.every((status) => status === 201));
  t.is(await charges(), BURST);
  t.is(await ledger.balance('person', accountId), 525 - BURST);
  t.deepEqual(await ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
});
