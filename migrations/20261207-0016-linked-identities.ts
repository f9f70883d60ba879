import { sql, type Kysely } from 'kysely';

/** Upstream identities (Google, a company's OpenID provider, ...) linked to the accounts they sign in to. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('linked_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    // The upstream's `sub`: stable and never reassigned, unlike an email address (OIDC Core 5.7).
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('display_name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // One upstream identity signs in to one account, however many first sign-ins race.
    .addUniqueConstraint('linked_identities_provider_subject', ['provider', 'subject'])
    .execute();
  await db.schema.createIndex('linked_identities_account').on('linked_identities').column('account_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('linked_identities').execute();
}
