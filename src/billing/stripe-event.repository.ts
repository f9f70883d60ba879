import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export type Claim = 'claimed' | 'processed' | 'busy';

/** SQL for the stripe_events table: which webhook events were handled, and who is handling one now. */
export function createStripeEventRepository(db: Db) {
  return {
    /**
     * One statement, so two concurrent deliveries of one event cannot both claim it. A claim is a
     * lease rather than an open transaction: the handler books DUST in transactions of its own, and
     * the embedded database has a single connection that a held transaction would block. A lease
     * left by a crashed process expires, and the next delivery claims the event again.
     */
    async claim(event: { id: string; type: string; createdAt: Date }, leaseSeconds: number): Promise<Claim> {
      const until = sql<Date>`now() + ${`${leaseSeconds} seconds`}::interval`;
      const claimed = await db
        .insertInto('stripe_events')
        .values({ id: event.id, type: event.type, stripe_created_at: event.createdAt, claimed_until: until })
        .onConflict((c) =>
          c
            .column('id')
            .doUpdateSet({ claimed_until: until })
            .where('stripe_events.processed_at', 'is', null)
            .where((eb) =>
              eb.or([
                eb('stripe_events.claimed_until', 'is', null),
                eb('stripe_events.claimed_until', '<', sql<Date>`now()`),
              ]),
            ),
        )
        .returning('id')
        .executeTakeFirst();
      if (claimed) return 'claimed';
      const row = await db
        .selectFrom('stripe_events')
        .select('processed_at')
        .where('id', '=', event.id)
        .executeTakeFirst();
      return row?.processed_at ? 'processed' : 'busy';
    },

    async markProcessed(id: string, outcome: string) {
      await db
        .updateTable('stripe_events')
        .set({ processed_at: sql<Date>`now()`, claimed_until: null, outcome })
        .where('id', '=', id)
        .execute();
    },

    /** After a failure, so Stripe's retry need not wait for the lease to run out. */
    async release(id: string) {
      await db
        .updateTable('stripe_events')
        .set({ claimed_until: null })
        .where('id', '=', id)
        .where('processed_at', 'is', null)
        .execute();
    },
  };
}
