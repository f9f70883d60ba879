// token_after_expired_rows: does a token table full of expired rows slow the token endpoint down?
//
// The refresh grant (which reads and writes oidc_payloads: find and consume the refresh token, find
// the grant, insert a new refresh token and an opaque access token) is measured on the table as the
// run left it, then 1,000,000 expired rows are added in one INSERT ... SELECT generate_series, and it
// is measured again. Afterwards, with FairyID stopped, one full sweep (sweepExpiredPayloads, the
// function the server's sweeper calls) is timed on those rows.
//
// The server's own sweeper runs every 60 s (src/app.ts) and deletes everything expired at that moment
// (500 rows per statement, looping until none are left), so expired rows would be gone within a
// minute of being committed. To measure the endpoint *with* the rows present, the insert stays
// uncommitted until a sweep has just happened (seen as a canary expired row disappearing), is
// committed right after it, and the "after" runs must end before the next sweep (a few seconds of
// margin); the expired rows are counted afterwards to prove they were there throughout.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { sweepExpiredPayloads } from '../../src/oidc/adapter.ts';
import type { Db } from '../../src/db/database.ts';
import type { LoadResult } from './load.ts';

export const EXPIRED_ROWS = 1_000_000;
/** src/app.ts SWEEP_INTERVAL_MS (not exported): how often the server sweeps expired rows. */
const SERVER_SWEEP_INTERVAL_MS = 60_000;
/** The "after" runs stop this long before the server's next sweep is due. */
const SWEEP_MARGIN_MS = 4_000;
const CANARY_MODEL = 'BenchSweepCanary';

type TableStats = { rows: number; expired: number; tableBytes: number; indexBytes: number };

export type ExpiredRowsReport = {
  inserted: number;
  before: LoadResult[];
  after: LoadResult[];
  tableBefore: TableStats;
  tableAfter: TableStats;
  /** Expired rows still there when the last "after" run ended (the server's sweeper had not run). */
  expiredAtEnd: number;
  insertS: number;
  vacuumS: number;
  /** The CHECKPOINT before each phase, seconds. */
  checkpointS: number[];
  autovacuum: string;
  /** How long the committed insert waited for the server's sweep (the canary), or why it did not. */
  sweepSync: { waitedS: number; observed: boolean };
  sweep?: { rows: number; seconds: number; statements: number; slowestMs: number } | { error: string };
  notes: string[];
};

/**
 * `refreshRun` prepares (untimed) and performs one timed refresh run on FairyID; `stopFairyId`
 * stops every FairyID process (its sweeper with it) before the sweep is timed.
 */
export async function runExpiredRows(context: {
  databaseUrl: string;
  reps: number;
  duration: number;
  refreshRun: () => Promise<LoadResult>;
  stopFairyId: () => Promise<void>;
  log: (line: string) => void;
}): Promise<ExpiredRowsReport> {
  const { databaseUrl, reps, duration, refreshRun, log } = context;
  const notes: string[] = [];
  const main = new pg.Client({ connectionString: databaseUrl });
  const side = new pg.Client({ connectionString: databaseUrl });
  await main.connect();
  await side.connect();
  try {
    const autovacuum = String((await side.query('show autovacuum')).rows[0]?.autovacuum);
    // Both phases start right after a checkpoint, so neither pays for the other's dirty pages and
    // both pay alike for full-page images in the WAL (see the README: that is the real cost of size).
    const checkpointS = [await checkpoint(side, notes)];
    log(
      `\ntoken_after_expired_rows: refresh before and after ${EXPIRED_ROWS.toLocaleString('en-US')} expired rows; before:`,
    );
    const before: LoadResult[] = [];
    for (let rep = 1; rep <= reps; rep += 1) before.push(logged(`before ${rep}`, await refreshRun(), log));
    const tableBefore = await tableStats(side);

    await main.query('begin');
    let began = performance.now();
    await main.query(INSERT_EXPIRED, [EXPIRED_ROWS]);
    const insertS = (performance.now() - began) / 1000;
    log(
      `inserted ${EXPIRED_ROWS.toLocaleString('en-US')} expired rows in ${insertS.toFixed(1)} s (not committed yet); waiting for the server's sweep`,
    );

    // Commit right after the server's sweeper has run, so the rows stay for the next ~60 s.
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    await side.query(
      `insert into oidc_payloads (model, id, payload, grant_id, expires_at, consumed_at) values ($1, $2, '{}', null, now() - interval '1 second', null)`,
      [CANARY_MODEL, canary],
    );
    began = performance.now();
    let observed = false;
    while (performance.now() - began < SERVER_SWEEP_INTERVAL_MS + 20_000) {
      const found = await side.query('select 1 from oidc_payloads where model = $1 and id = $2', [
        CANARY_MODEL,
        canary,
      ]);
      if (found.rowCount === 0) {
        observed = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await main.query('commit');
    const sweptAt = performance.now();
    const sweepSync = { waitedS: (sweptAt - began) / 1000, observed };
    if (!observed) {
      await side.query('delete from oidc_payloads where model = $1', [CANARY_MODEL]);
      notes.push(
        `the server's sweep was not seen within ${(SERVER_SWEEP_INTERVAL_MS + 20_000) / 1000} s; its sweeper may have removed rows during the "after" runs`,
      );
    }
    log(
      observed ? `server swept ${sweepSync.waitedS.toFixed(1)} s later; committed` : 'no sweep seen; committed anyway',
    );

    // What autovacuum would have done by the time a real table had grown this way (the rows' hint
    // bits, the visibility map and the planner statistics); this server runs with autovacuum=off.
    began = performance.now();
    await main.query('vacuum (analyze) oidc_payloads');
    const vacuumS = (performance.now() - began) / 1000;
    checkpointS.push(await checkpoint(side, notes));
    log(`VACUUM (ANALYZE) in ${vacuumS.toFixed(1)} s, CHECKPOINT in ${checkpointS[1]!.toFixed(1)} s; refresh after:`);

    const deadline = sweptAt + SERVER_SWEEP_INTERVAL_MS - SWEEP_MARGIN_MS;
    const after: LoadResult[] = [];
    for (let rep = 1; rep <= reps; rep += 1) {
      // A run plus its untimed refill must end before the server's next sweep.
      if (observed && performance.now() + (duration + 3) * 1000 > deadline) {
        notes.push(`${rep - 1} "after" runs fitted before the server's next sweep (of ${reps})`);
        break;
      }
      after.push(logged(`after ${rep}`, await refreshRun(), log));
    }
    const tableAfter = await tableStats(side);
    const expiredAtEnd = tableAfter.expired;
    if (expiredAtEnd < EXPIRED_ROWS)
      notes.push(
        `only ${expiredAtEnd} expired rows were left after the "after" runs: the server's sweeper ran during them`,
      );

    // Timed with FairyID stopped, so the server's own sweeper neither helps nor competes.
    await context.stopFairyId();
    const sweep = await timeSweep(databaseUrl, log);
    return {
      inserted: EXPIRED_ROWS,
      before,
      after,
      tableBefore,
      tableAfter,
      expiredAtEnd,
      insertS,
      vacuumS,
      checkpointS,
      autovacuum,
      sweepSync,
      sweep,
      notes,
    };
  } finally {
    await main.query('rollback').catch(() => {});
    await main.end().catch(() => {});
    await side.end().catch(() => {});
  }
}

/**
 * One statement: random 43-character base64url ids like oidc-provider's, alternating RefreshToken and
 * AccessToken (the models the refresh grant reads and writes, so their primary-key range is the one
 * that grows), payloads shaped and sized like real ones (~340 bytes), expired within the last day,
 * grant_id null.
 */
const INSERT_EXPIRED = `
insert into oidc_payloads (model, id, payload, grant_id, expires_at, consumed_at)
select r.model, r.id,
  jsonb_build_object('iat', extract(epoch from r.exp)::int - 1209600, 'exp', extract(epoch from r.exp)::int, 'jti', r.id,
    'kind', r.model, 'gty', 'authorization_code', 'scope', 'openid email profile offline_access', 'clientId', 'bench-web',
    'accountId', 'bench-expired-' || r.g, 'authTime', extract(epoch from r.exp)::int - 1209600, 'amr', jsonb_build_array('otp'),
    'expiresWithSession', false),
  null, r.exp, null
from (
  select g,
    case when g % 2 = 0 then 'RefreshToken' else 'AccessToken' end as model,
    translate(rtrim(encode(sha256((random()::text || g::text)::bytea), 'base64'), '='), '+/', '-_') as id,
    now() - interval '1 minute' - (g % 86400) * interval '1 second' as exp
  from generate_series(1, $1::int) as g
) as r`;

async function tableStats(client: pg.Client): Promise<TableStats> {
  const { rows } = await client.query(`
    select count(*) as rows, count(*) filter (where expires_at < now()) as expired,
      pg_table_size('oidc_payloads') as table_bytes, pg_indexes_size('oidc_payloads') as index_bytes
    from oidc_payloads`);
  const row = rows[0] as Record<string, string>;
  return {
    rows: Number(row.rows),
    expired: Number(row.expired),
    tableBytes: Number(row.table_bytes),
    indexBytes: Number(row.index_bytes),
  };
}

async function checkpoint(client: pg.Client, notes: string[]): Promise<number> {
  const began = performance.now();
  try {
    await client.query('checkpoint');
  } catch (error) {
    const message = `CHECKPOINT failed (${error instanceof Error ? error.message : String(error)}); phases not aligned on checkpoints`;
    if (!notes.includes(message)) notes.push(message);
  }
  return (performance.now() - began) / 1000;
}

function logged(label: string, result: LoadResult, log: (line: string) => void) {
  const failures = result.failed ? `  non-OK ${result.failed}, first: ${result.firstFailure}` : '';
  log(`[${label}] refresh ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${result.latencyMs.p99} ms${failures}`);
  return result;
}

/** sweepExpiredPayloads on the run's database through a kysely of our own, counting its DELETEs. */
async function timeSweep(databaseUrl: string, log: (line: string) => void): Promise<ExpiredRowsReport['sweep']> {
  let statements = 0;
  let slowestMs = 0;
  const db = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1 }) }),
    log(event) {
      if (event.level !== 'query' || !/^delete /i.test(event.query.sql)) return;
      statements += 1;
      slowestMs = Math.max(slowestMs, event.queryDurationMillis);
    },
  }) as unknown as Db;
  try {
    log('timing one full sweep (sweepExpiredPayloads) with FairyID stopped');
    const began = performance.now();
    const rows = await sweepExpiredPayloads(db);
    const seconds = (performance.now() - began) / 1000;
    log(`swept ${rows} rows in ${seconds.toFixed(1)} s (${statements} statements)`);
    return { rows, seconds, statements, slowestMs };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    await db.destroy();
  }
}
