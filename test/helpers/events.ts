import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
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
