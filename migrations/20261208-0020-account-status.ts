import { sql, type Kysely } from 'kysely';

/**
 * Account status (active, suspended by the platform owner, deleted by the person), and the one
 * change the audit trail admits: erasing the personal fields of a deleted person's rows.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('active').check(sql`status in ('active', 'suspended', 'deleted')`),
    )
    .addColumn('status_reason', 'text')
    .addColumn('status_changed_at', 'timestamptz')
    .execute();

  // Still append-only: no row is deleted and nothing recorded is rewritten, but a deleted person's
  // IP addresses, browsers and details may be blanked (their right to erasure); the event, outcome,
  // account, client and time stay, so the trail keeps its shape.
  await sql`
    create or replace function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE'
        and new.id = old.id and new.event = old.event and new.outcome = old.outcome
        and new.account_id is not distinct from old.account_id
        and new.client_id is not distinct from old.client_id
        and new.created_at = old.created_at
        and new.ip is null and new.user_agent is null and new.detail is null then
        return new;
      end if;
      raise exception 'audit_events is append-only';
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only';
    end $$`.execute(db);
  await db.schema.alterTable('accounts').dropColumn('status_changed_at').execute();
  await db.schema.alterTable('accounts').dropColumn('status_reason').execute();
  await db.schema.alterTable('accounts').dropColumn('status').execute();
}
