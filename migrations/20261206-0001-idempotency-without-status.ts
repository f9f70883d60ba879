import { sql, type Kysely } from 'kysely';

/**
 * An idempotency key remembers the transaction it booked, not an HTTP status: the ledger answers
 * replays without knowing about HTTP, and every booking answered 201 anyway.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('idempotency_keys').dropColumn('status').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('idempotency_keys')
    .addColumn('status', 'integer', (c) => c.notNull().defaultTo(sql`201`))
    .execute();
}
