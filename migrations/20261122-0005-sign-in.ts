import { sql, type Kysely } from 'kysely';

const MILLISECONDS = sql`timestamptz(3)`;

/**
 * The full sign-in: second factors (passkeys, TOTP, backup codes), the provider sessions a person
 * can see and end, and the audit trail of security events.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('picture_url', 'text').execute();

  await db.schema
    .createTable('passkeys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // base64url, as the browser reports it; unique across accounts (WebAuthn 6.1: credential ids are global).
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'bytea', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('device_type', 'text', (c) => c.notNull().check(sql`device_type in ('singleDevice', 'multiDevice')`))
    .addColumn('backed_up', 'boolean', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('passkeys_account_id').on('passkeys').column('account_id').execute();

  // One authenticator app per person; the secret is sealed under KEYS_SECRET like signing keys.
  await db.schema
    .createTable('totp_factors')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('sealed_secret', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // RFC 6238 5.2: a code, once accepted, must not be accepted again; steps only move forward.
    .addColumn('last_used_step', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('backup_codes')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('backup_codes_pkey', ['account_id', 'code_hash'])
    .execute();

  // oidc-provider keeps sessions in Redis by their cookie value; this is the index a person sees:
  // one row per session (its stable uid), with the device it was opened on.
  await db.schema
    .createTable('account_sessions')
    .addColumn('session_uid', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('account_sessions_account_id')
    .on('account_sessions')
    .columns(['account_id', 'last_seen_at'])
    .execute();

  // Append-only: who did what, from where, and how it ended.
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('success', 'failure')`))
    .addColumn('account_id', 'text')
    .addColumn('client_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'jsonb')
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('audit_events_account_id').on('audit_events').columns(['account_id', 'id']).execute();
  await sql`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only';
    end $$`.execute(db);
  await sql`
    create trigger audit_events_append_only before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db);

  // The account page lists a person's grants (their connected apps).
  await sql`create index oidc_payloads_grant_account on oidc_payloads ((payload->>'accountId')) where model = 'Grant'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index oidc_payloads_grant_account`.execute(db);
  for (const table of ['audit_events', 'account_sessions', 'backup_codes', 'totp_factors', 'passkeys']) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop function audit_events_append_only`.execute(db);
  await db.schema.alterTable('accounts').dropColumn('picture_url').execute();
}
