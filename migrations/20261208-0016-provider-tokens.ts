import { sql, type Kysely } from 'kysely';

/** Upstream access and refresh tokens kept for apps the person allows (`provider_tokens`), sealed. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('provider_tokens')
    // One set per linked identity; unlinking it removes its tokens with it.
    .addColumn('linked_identity_id', 'text', (c) =>
      c.primaryKey().references('linked_identities.id').onDelete('cascade'),
    )
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('access_token_sealed', 'text', (c) => c.notNull())
    .addColumn('refresh_token_sealed', 'text')
    .addColumn('scope', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('refresh_at', 'timestamptz')
    .addColumn('refresh_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reconsent_needed_at', 'timestamptz')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('provider_tokens_account')
    .on('provider_tokens')
    .columns(['account_id', 'provider'])
    .execute();
  // The background refresh looks only at rows with something to do.
  await db.schema
    .createIndex('provider_tokens_refresh_at')
    .on('provider_tokens')
    .column('refresh_at')
    .where(sql.ref('refresh_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('provider_tokens').execute();
}
