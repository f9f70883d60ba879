import type { ColumnType, Generated, JSONColumnType, Selectable } from 'kysely';

export interface AuditEventsTable {
  id: Generated<string>;
  event: string;
  outcome: 'success' | 'failure';
  account_id: string | null;
  client_id: string | null;
  /** The organization the event concerns, when there is one (an organization's environment, say). */
  organization_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** The X-Request-Id of the request that caused it; null for work outside a request (the reconciler). */
  request_id: string | null;
  detail: JSONColumnType<Record<string, unknown> | null, string | null, never>;
  created_at: ColumnType<Date, never, never>;
}

export type AuditEvent = Selectable<AuditEventsTable>;

export interface AuditTables {
  audit_events: AuditEventsTable;
}
