import type { Kysely } from 'kysely';

/**
 * Builders: people who register OAuth clients of their own, without an organization. The flag is the
 * person's to set (or the platform owner's); their clients name them as owner, which keeps a builder's
 * clients invisible to everyone else and lets the per-person limit count them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('builder', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable('clients')
    // A deleted account takes its clients with it: nobody else could manage them.
    .addColumn('owner_account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('clients_owner_account_id').on('clients').column('owner_account_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('clients_owner_account_id').execute();
  await db.schema.alterTable('clients').dropColumn('owner_account_id').execute();
  await db.schema.alterTable('accounts').dropColumn('builder').execute();
}
