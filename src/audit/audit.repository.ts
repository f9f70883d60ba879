import { sql, type Insertable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type { AuditEvent, AuditEventsTable } from './audit.table.ts';

/** What the platform's view of the trail narrows by; every field is optional. */
export type AuditFilter = {
  accountId?: string | undefined;
  organizationId?: string | undefined;
  event?: string | undefined;
  outcome?: 'success' | 'failure' | undefined;
  requestId?: string | undefined;
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
};

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

    /** Newest first, `limit + 1` rows after the cursor (keyset on created_at, id). */
    async list(filter: AuditFilter, cursor: CursorKey | undefined, limit: number): Promise<AuditEvent[]> {
      let query = db.selectFrom('audit_events').selectAll();
      if (filter.accountId !== undefined) query = query.where('account_id', '=', filter.accountId);
      if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
      if (filter.event !== undefined) query = query.where('event', '=', filter.event);
      if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
      if (filter.requestId !== undefined) query = query.where('request_id', '=', filter.requestId);
      if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
      if (cursor) query = query.where(sql<boolean>`(created_at, id) < (${new Date(cursor.at)}, ${cursor.id}::bigint)`);
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      // pg returns a bigserial as a string, PGlite as a number: one type for the answer and the cursor.
      return rows.map((row) => ({ ...row, id: String(row.id) }));
    },

    findAllForAccount(accountId: string): Promise<AuditEvent[]> {
      return db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
