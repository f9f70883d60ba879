import { sql, type Kysely } from 'kysely';

/**
 * System wallets (the issuers of DUST: sign-up grants, purchases, and the platform's environment
 * takings) keep no cached balance: it was a single row every sign-up updated and held locked until
 * its commit, so concurrent sign-ups took turns. Such a wallet may go negative by design, so the
 * cache guarded nothing; its balance is the sum of its entries, read when asked. Every other wallet
 * keeps its cache, never below zero (the default 0 stays for them; a system wallet is created with null).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('wallets')
    .alterColumn('balance', (c) => c.dropNotNull())
    .execute();
  await sql`update wallets set balance = null where kind = 'system'`.execute(db);
  await db.schema
    .alterTable('wallets')
    .addCheckConstraint('wallets_cached_unless_system', sql`(kind = 'system') = (balance is null)`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('wallets').dropConstraint('wallets_cached_unless_system').execute();
  await sql`
    update wallets w set balance = coalesce((select sum(e.amount) from ledger_entries e where e.wallet_id = w.id), 0)
    where kind = 'system'`.execute(db);
  await db.schema
    .alterTable('wallets')
    .alterColumn('balance', (c) => c.setNotNull())
    .execute();
}
