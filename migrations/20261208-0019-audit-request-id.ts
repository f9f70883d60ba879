import { sql, type Kysely } from 'kysely';

/**
 * Audit rows name the request that caused them (its X-Request-Id, also on the log line and the
 * response) and the organization they concern, so the platform owner can filter the trail by it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('audit_events')
    .addColumn('request_id', 'text')
    .addColumn('organization_id', 'text')
    .execute();
  // Environment events already named their organization in their detail. The trail stays
  // append-only: the trigger is off only for this one backfill, inside the migration's transaction.
  await sql`alter table audit_events disable trigger audit_events_append_only`.execute(db);
  await sql`
    update audit_events set organization_id = detail->>'organization_id'
    where detail ? 'organization_id' and detail->>'organization_id' is not null`.execute(db);
  await sql`alter table audit_events enable trigger audit_events_append_only`.execute(db);
  // The platform's view pages newest first, overall or by organization, and finds a request's rows.
  await db.schema.createIndex('audit_events_created_at').on('audit_events').columns(['created_at', 'id']).execute();
  await sql`create index audit_events_organization on audit_events (organization_id, created_at, id)
    where organization_id is not null`.execute(db);
  await sql`create index audit_events_request on audit_events (request_id) where request_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_events_request').execute();
  await db.schema.dropIndex('audit_events_organization').execute();
  await db.schema.dropIndex('audit_events_created_at').execute();
  await db.schema.alterTable('audit_events').dropColumn('organization_id').dropColumn('request_id').execute();
}
