import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { OutboxRow } from './event.table.ts';

/** SQL for the event outbox; works on the database or in the transaction of the change being described. */
export function createOutboxRepository(db: Db) {
  return {
    async insert(row: {
      event_id: string;
      type: string;
      subject: string;
      organization_id: string | null;
      payload: string;
      created_at: Date;
    }): Promise<void> {
      await db.insertInto('event_outbox').values(row).execute();
    },

    /**
     * Claims, in the caller's transaction, the oldest waiting event of each subject whose earlier
     * events are all dispatched. Rows another instance holds are skipped, and so are the later events
     * of their subjects (the held row is still waiting), so a subject is never dispatched out of order.
     */
    async claimWaiting(limit: number): Promise<OutboxRow[]> {
      const { rows } = await sql<OutboxRow>`
        select * from event_outbox o
        where o.dispatched_at is null
          and not exists (
            select 1 from event_outbox earlier
            where earlier.subject = o.subject and earlier.dispatched_at is null and earlier.seq < o.seq
          )
        order by o.seq
        limit ${limit}
        for update skip locked`.execute(db);
      return rows;
    },

    async markDispatched(seqs: string[], at: Date): Promise<void> {
      if (seqs.length)
        await db.updateTable('event_outbox').set({ dispatched_at: at }).where('seq', 'in', seqs).execute();
    },

    async deleteDispatchedBefore(before: Date): Promise<number> {
      const result = await db.deleteFrom('event_outbox').where('dispatched_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async countWaiting(): Promise<number> {
      const row = await db
        .selectFrom('event_outbox')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('dispatched_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
