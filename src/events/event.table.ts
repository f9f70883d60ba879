import type { ColumnType, Generated, Selectable } from 'kysely';

/** Written in the transaction of the change it describes; dispatched, then swept after the retention. */
export interface EventOutboxTable {
  /** The outbox order: events of one subject are dispatched in this order. */
  seq: Generated<string>;
  event_id: string;
  type: string;
  /** `<kind>:<id>`, e.g. `account:…`: the unit of ordering. */
  subject: string;
  organization_id: string | null;
  /** The event as consumers receive it (see event-catalog.ts). */
  payload: ColumnType<EventPayloadJson, string, never>;
  created_at: Date;
  dispatched_at: Date | null;
}

export type EventPayloadJson = Record<string, unknown>;

export interface WebhookEndpointsTable {
  id: string;
  /** Null for the platform owner's endpoints, which receive every event. */
  organization_id: string | null;
  url: string;
  description: string | null;
  /** Catalog types, or `*` for all. */
  event_types: ColumnType<string[], string, string>;
  enabled: boolean;
  /** The Standard Webhooks secret (`whsec_…`), sealed under KEYS_SECRET. */
  secret_sealed: string;
  consecutive_failures: number;
  disabled_reason: string | null;
  created_by: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The exact bytes sent (and signed) on every attempt. */
  body: string;
  seq: string;
  status: DeliveryStatus;
  attempts: number;
  /** Position in the retry schedule; a redelivery starts it again. */
  retry_index: number;
  next_attempt_at: Date;
  /** An instance sending it holds it until then; a crashed one's lease simply runs out. */
  leased_until: Date | null;
  last_status_code: number | null;
  created_at: Date;
  completed_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  endpoint_id: string;
  attempted_at: Date;
  success: boolean;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
}

export type OutboxRow = Selectable<EventOutboxTable>;
export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type WebhookAttempt = Selectable<WebhookAttemptsTable>;

export interface EventTables {
  event_outbox: EventOutboxTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
