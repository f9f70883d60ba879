import { sql, type Kysely } from 'kysely';

/**
 * Browsers a person chose to remember at the second step ("Remember this browser for 30 days"), and
 * when they last skipped the offer to create a passkey after a code sign-in.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('remembered_browsers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    // SHA-256 of the cookie's random token: the database alone cannot skip anyone's second step.
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('remembered_browsers_account').on('remembered_browsers').column('account_id').execute();
  await db.schema.alterTable('accounts').addColumn('passkey_offer_skipped_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('passkey_offer_skipped_at').execute();
  await db.schema.dropTable('remembered_browsers').execute();
}
