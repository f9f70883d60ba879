import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.ts';

export type PublishedEvent = {
  id: string;
  type: string;
  version: number;
  time: string;
  actor: { type: string; id?: string; client_id?: string | null };
  subject: { type: string; id: string };
  organization_id: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
};

/** The outbox's events, oldest first, optionally of one type. */
export async function outboxEvents(db: Db, type?: string): Promise<PublishedEvent[]> {
  let query = db.selectFrom('event_outbox').select(['payload', 'seq']).orderBy('seq');
  if (type) query = query.where('type', '=', type);
  return (await query.execute()).map((row) => row.payload as unknown as PublishedEvent);
}

/**
 * Makes the database refuse, at commit, every transaction that wrote a row of `table` for which
 * `condition` holds (SQL over the row as `r`: the new row, or the old one of a delete). A deferred
 * constraint trigger, so the failure comes after the change and everything written with it (its
 * event) are in, and the whole transaction is rolled back. Removed when the test ends, or earlier
 * by calling what it returns.
 */
export async function refuseAtCommit(t: ExecutionContext, db: Db, table: string, condition: string) {
  const name = `refuse_${table}_${randomBytes(4).toString('hex')}`;
  await sql
    .raw(`
      create function ${name}() returns trigger language plpgsql as $$
      declare r ${table}%rowtype;
      begin
        if tg_op = 'DELETE' then r := old; else r := new; end if;
        if ${condition} then raise exception 'forced failure (${name})'; end if;
        return null;
      end $$`)
    .execute(db);
  await sql
    .raw(`
      create constraint trigger ${name} after insert or update or delete on ${table}
      deferrable initially deferred for each row execute function ${name}()`)
    .execute(db);
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await sql.raw(`drop trigger ${name} on ${table}`).execute(db);
    await sql.raw(`drop function ${name}()`).execute(db);
  };
  t.teardown(remove);
  return remove;
}

/** A string as an SQL literal, for `refuseAtCommit` conditions. */
export const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Refuses, at commit, every transaction that writes an event of `type` about `subject` (`kind:id`),
 * and `condition` if given (SQL over the outbox row `r`). The change the event describes is written
 * before it: if it commits anyway, it was not written in the event's transaction.
 */
export const refuseEvent = (t: ExecutionContext, db: Db, type: string, subject: string, condition = 'true') =>
  refuseAtCommit(
    t,
    db,
    'event_outbox',
    `r.type = ${literal(type)} and r.subject like ${literal(subject)} and ${condition}`,
  );

export type Received = { headers: IncomingHttpHeaders; body: string };

/**
 * A webhook receiver on a loopback port: records every request and answers with the status `answer`
 * gives for the request's number (1-based). `next(n)` resolves once n requests have arrived.
 */
export async function startReceiver(t: ExecutionContext, answer: (n: number) => number | Promise<number> = () => 204) {
  const received: Received[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = answer(received.length);
      for (const waiter of waiting.filter((entry) => received.length >= entry.count)) waiter.resolve();
      void Promise.resolve(status).then((code) => {
        res.statusCode = code;
        res.end(code >= 400 ? 'receiver says no' : 'ok');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    /** Resolves once `count` requests in all have arrived. */
    next(count: number) {
      if (received.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push({ count, resolve }));
    },
    events: () => received.map((entry) => JSON.parse(entry.body) as PublishedEvent),
  };
}
