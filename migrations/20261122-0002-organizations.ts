import { sql, type Kysely } from 'kysely';

// Millisecond precision: keyset cursors carry created_at through JavaScript Dates, which have no microseconds.
const MILLISECONDS = sql`timestamptz(3)`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('platform_owner', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'active', 'rejected', 'suspended')`),
    )
    .addColumn('status_reason', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('organizations_status').on('organizations').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('memberships')
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'admin', 'member', 'billing')`))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('memberships_pkey', ['organization_id', 'account_id'])
    .execute();
  await db.schema.createIndex('memberships_account_id').on('memberships').column('account_id').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'admin', 'member', 'billing')`))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('invited_by', 'text', (c) => c.references('accounts.id').onDelete('set null'))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('accepted_at', 'timestamptz')
    .addColumn('accepted_by', 'text', (c) => c.references('accounts.id').onDelete('set null'))
    .addColumn('declined_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  // One open invitation per address and organization.
  await db.schema
    .createIndex('invitations_open_email')
    .on('invitations')
    .columns(['organization_id', 'email'])
    .unique()
    .where(sql.ref('accepted_at'), 'is', null)
    .where(sql.ref('declined_at'), 'is', null)
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();

  // Clients an organization registered through the API; deleting the organization deletes them.
  await db.schema
    .alterTable('clients')
    .addColumn('organization_id', 'text', (c) => c.references('organizations.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('clients_organization_id').on('clients').column('organization_id').execute();

  // Which organization a person chose for an app's grant (the `organization` scope).
  await db.schema
    .createTable('organization_grants')
    .addColumn('grant_id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Kept when the organization is deleted: the trail outlives what it describes.
  await db.schema
    .createTable('organization_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('organization_events_org')
    .on('organization_events')
    .columns(['organization_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('organization_events').execute();
  await db.schema.dropTable('invitations').execute();
  await db.schema.dropTable('organization_grants').execute();
  await db.schema.alterTable('clients').dropColumn('organization_id').execute();
  await db.schema.dropTable('memberships').execute();
  await db.schema.dropTable('organizations').execute();
  await db.schema.alterTable('accounts').dropColumn('platform_owner').execute();
}
