import type { ColumnType, Generated, JSONColumnType, Selectable } from 'kysely';

export interface AuditEventsTable {
  id: Generated<string>;
  event: string;
  outcome: 'success' | 'failure';
  account_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: JSONColumnType<Record<string, unknown> | null, string | null, never>;
  created_at: ColumnType<Date, never, never>;
}

export type AuditEvent = Selectable<AuditEventsTable>;

export interface AuditTables {
  audit_events: AuditEventsTable;
}
