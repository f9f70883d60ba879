import test from 'ava';
import pg from 'pg';
import { apiToken } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestServer } from '../helpers/server.ts';

// Only Postgres has a connection pool to run out of; the embedded database serves one query at a time.
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

onPostgres(
  'a request that finds every database connection busy gets 503 with Retry-After, and the others finish',
  async (t) => {
    const database = await createTestDatabase();
    // Registered first, so it runs last (ava runs teardowns in reverse): the server and its background
    // jobs stop before the database is dropped under their connections.
    t.teardown(() => database.drop());
    const server = await startTestServer(t, {
      database,
      env: { DATABASE_POOL_SIZE: '2', DATABASE_POOL_WAIT_MS: '1000' },
    });
    const token = await apiToken(server, 'busy@example.com', ['dust:read']);
    const balance = () =>
      fetch(`${server.url}/api/dust/balance`, { headers: { authorization: `Bearer ${token}` } }).then(
        async (response) => ({
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body: (await response.json()) as Record<string, unknown>,
        }),
      );

    // The test holds the wallets table: the first two requests take both connections and wait on it,
    // so the third finds none free within the pool's wait, however slow or fast this machine is.
    const holder = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await holder.connect();
    t.teardown(() => holder.end());
    await holder.query('begin');
    await holder.query('lock table wallets in access exclusive mode');
    const blocked = [balance(), balance()];
    const refused = await balance();
    await holder.query('commit');

    t.is(refused.status, 503);
    t.is(refused.retryAfter, '1');
    t.is(refused.body.error, 'temporarily_unavailable');
    t.deepEqual(
      (await Promise.all(blocked)).map((answer) => answer.status),
      [200, 200],
    );
    t.is((await balance()).status, 200);
  },
);
