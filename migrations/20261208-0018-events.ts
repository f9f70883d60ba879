import { sql, type Kysely } from 'kysely';

const MILLISECONDS = sql`timestamptz(3)`;

/**
 * Events leave FairyID through an outbox written in the transaction of the change (see
 * src/events/): a dispatcher publishes them to the broker and fans them out to webhook endpoints,
 * whose deliveries and every attempt are kept for the delivery log.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('event_outbox')
    .addColumn('seq', 'bigserial', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text')
    // json, not jsonb: the text is kept as written, so every consumer gets the same bytes.
    .addColumn('payload', 'json', (c) => c.notNull())
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull())
    .addColumn('dispatched_at', MILLISECONDS)
    .execute();
  // The dispatcher's two questions: what is waiting, and is an earlier event of this subject waiting.
  await db.schema
    .createIndex('event_outbox_waiting')
    .on('event_outbox')
    .columns(['subject', 'seq'])
    .where(sql.ref('dispatched_at'), 'is', null)
    .execute();
  await db.schema.createIndex('event_outbox_dispatched').on('event_outbox').column('dispatched_at').execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('event_types', 'jsonb', (c) => c.notNull())
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_reason', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', MILLISECONDS, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_organization')
    .on('webhook_endpoints')
    .column('organization_id')
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('retry_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', MILLISECONDS, (c) => c.notNull())
    .addColumn('leased_until', MILLISECONDS)
    .addColumn('last_status_code', 'integer')
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull())
    .addColumn('completed_at', MILLISECONDS)
    // A dispatcher that crashed after fanning out and runs again adds no second delivery.
    .addUniqueConstraint('webhook_deliveries_endpoint_event', ['endpoint_id', 'event_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['next_attempt_at', 'seq'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_endpoint')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('attempted_at', MILLISECONDS, (c) => c.notNull())
    .addColumn('success', 'boolean', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('response_excerpt', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').column('delivery_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhook_endpoints', 'event_outbox']) {
    await db.schema.dropTable(table).execute();
  }
}
