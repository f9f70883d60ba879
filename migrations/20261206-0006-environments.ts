import { sql, type Kysely } from 'kysely';

// Millisecond precision: keyset cursors carry created_at through JavaScript Dates, which have no microseconds.
const MILLISECONDS = sql`timestamptz(3)`;

/** Developer environments, their event trail and templates; the ledger learns environment usage. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('environments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.references('accounts.id'))
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id'))
    .addColumn('created_by', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('size', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`state in ('provisioning', 'running', 'stopping', 'stopped', 'starting', 'deleting', 'deleted', 'error')`,
        ),
    )
    .addColumn('desired_state', 'text', (c) =>
      c.notNull().check(sql`desired_state in ('running', 'stopped', 'deleted')`),
    )
    .addColumn('machine_id', 'text')
    .addColumn('volume_id', 'text')
    .addColumn('ssh_key_id', 'text')
    .addColumn('ip_address', 'text')
    .addColumn('ssh_port', 'integer')
    .addColumn('client_public_key', 'text', (c) => c.notNull())
    .addColumn('client_private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('host_public_key', 'text', (c) => c.notNull())
    .addColumn('host_private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('phone_home_hash', 'text', (c) => c.unique())
    .addColumn('last_error', 'text')
    .addColumn('stop_reason', 'text')
    .addColumn('idempotency_scope', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('transition_started_at', 'timestamptz')
    .addColumn('machine_created_at', 'timestamptz')
    .addColumn('running_since', 'timestamptz')
    .addColumn('metered_hours', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_activity_at', 'timestamptz')
    .addColumn('idle_warned_at', 'timestamptz')
    .addColumn('low_balance_warned_at', 'timestamptz')
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .addCheckConstraint('environments_one_owner', sql`(account_id is null) <> (organization_id is null)`)
    // The same Idempotency-Key from the same caller makes one environment, however many arrive at once.
    .addUniqueConstraint('environments_idempotency', ['idempotency_scope', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('environments_account')
    .on('environments')
    .columns(['account_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('environments_organization')
    .on('environments')
    .columns(['organization_id', 'created_at'])
    .execute();
  await db.schema.createIndex('environments_work').on('environments').columns(['state', 'next_attempt_at']).execute();

  await db.schema
    .createTable('environment_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text')
    .addColumn('message', 'text')
    .addColumn('actor_id', 'text')
    .addColumn('client_id', 'text')
    .addColumn('detail', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('environment_events_environment')
    .on('environment_events')
    .columns(['environment_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('environment_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('default_tier', 'text', (c) => c.notNull())
    .addColumn('user_data', 'jsonb', (c) => c.notNull())
    .addColumn('retired', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('environment_owners')
    .addColumn('owner_key', 'text', (c) => c.primaryKey())
    .execute();

  // Environment hours are booked once per (environment, run, hour) through the ledger's unique reference.
  await sql`alter table ledger_transactions drop constraint ledger_transactions_kind_check`.execute(db);
  await sql`alter table ledger_transactions add constraint ledger_transactions_kind_check check (kind in
    ('signup_grant', 'charge', 'refund', 'transfer', 'purchase', 'purchase_reversal', 'environment_usage'))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table ledger_transactions drop constraint ledger_transactions_kind_check`.execute(db);
  await sql`alter table ledger_transactions add constraint ledger_transactions_kind_check check (kind in
    ('signup_grant', 'charge', 'refund', 'transfer', 'purchase', 'purchase_reversal'))`.execute(db);
  await db.schema.dropTable('environment_owners').execute();
  await db.schema.dropTable('environment_templates').execute();
  await db.schema.dropTable('environment_events').execute();
  await db.schema.dropTable('environments').execute();
}
