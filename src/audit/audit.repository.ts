import type { Db } from '../db/database.ts';
import type { AuditEvent, AuditEventsTable } from './audit.table.ts';
import type { Insertable } from 'kysely';

export function createAuditRepository(db: Db) {
  return {
    async insert(row: Insertable<AuditEventsTable>): Promise<void> {
      await db.insertInto('audit_events').values(row).execute();
    },

    /** Newest first. */
    findRecentForAccount(accountId: string, limit: number): Promise<AuditEvent[]> {
      return db
        .selectFrom('audit_events')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
    },

    findAllForAccount(accountId: string): Promise<AuditEvent[]> {
      return db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
