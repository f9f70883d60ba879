/**
 * Sign-ups straight against the ledger, without HTTP: `workers` loops each insert an account and
 * grant its sign-up DUST (`grantSignup`), for `seconds`, on a fresh Postgres database migrated by
 * the tree at `root` (this checkout by default; another checkout's root gives the before of a
 * before/after pair). Meanwhile it samples pg_stat_activity and reports the share of the busy
 * backends that waited on a lock: what concurrent sign-ups spend queueing on shared rows.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx node bench/signup-grants.ts [root] [workers] [seconds]
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as Database from '../src/db/database.ts';
import type * as Migrator from '../src/db/migrator.ts';
import type * as Ledger from '../src/ledger/ledger.service.ts';
import type * as Recorder from '../src/events/event-recorder.ts';
import type * as Clock from '../src/shared/clock.ts';

const [rootArg = '.', workersArg = '8', secondsArg = '4'] = process.argv.slice(2);
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL (a database this user may create databases from) is required');
const root = pathToFileURL(`${resolve(rootArg)}/`);
const load = <T>(path: string) => import(new URL(path, root).href) as Promise<T>;
const { createDatabase } = await load<typeof Database>('src/db/database.ts');
const { migrateToLatest } = await load<typeof Migrator>('src/db/migrator.ts');
const { createLedgerService } = await load<typeof Ledger>('src/ledger/ledger.service.ts');
const { createEventRecorder } = await load<typeof Recorder>('src/events/event-recorder.ts');
const { systemClock } = await load<typeof Clock>('src/shared/clock.ts');

const name = `fairyid_grants_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const db = await createDatabase({ url: url.href, poolSize: 10, poolWaitMs: 10_000 });
try {
  await migrateToLatest(db);
  const ledger = createLedgerService({
    db,
    events: createEventRecorder(systemClock),
    clients: { find: async () => undefined },
    organizations: { authorize: async () => {}, requireActive: async () => {} },
  });
  const signUp = async () => {
    const id = randomUUID();
    await db
      .insertInto('accounts')
      .values({ id, email: `${id}@example.com`, fairyname: `grant_${id.slice(0, 13)}` })
      .execute();
    await ledger.grantSignup(id);
  };
  await signUp(); // the system wallet exists before the clock starts, as on any running server

  const end = Date.now() + Number(secondsArg) * 1000;
  const backends = { busy: 0, waiting: 0 };
  const sampling = (async () => {
    while (Date.now() < end) {
      const { rows } = await admin.query<{ busy: number; waiting: number }>(
        `select count(*)::int as busy, (count(*) filter (where wait_event_type = 'Lock'))::int as waiting
           from pg_stat_activity where datname = $1 and state = 'active'`,
        [name],
      );
      backends.busy += rows[0]?.busy ?? 0;
      backends.waiting += rows[0]?.waiting ?? 0;
      await new Promise((wake) => setTimeout(wake, 2));
    }
  })();
  const started = Date.now();
  let signUps = 0;
  await Promise.all(
    Array.from({ length: Number(workersArg) }, async () => {
      while (Date.now() < end) {
        await signUp();
        signUps += 1;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  await sampling;
  const verified = await ledger.verify();
  console.log(
    JSON.stringify({
      root: resolve(rootArg),
      workers: Number(workersArg),
      signUps,
      perSecond: Number((signUps / seconds).toFixed(1)),
      lockWaitShare: Number((backends.waiting / Math.max(1, backends.busy)).toFixed(2)),
      ledgerConsistent: !verified.unbalancedTransactions.length && !verified.walletsOutOfBalance.length,
    }),
  );
} finally {
  await db.destroy();
  await admin.query(`drop database ${name}`);
  await admin.end();
}
