import { sql, type Kysely } from 'kysely';

const MILLISECONDS = sql`timestamptz(3)`;

/**
 * DUST: double-entry and append-only. Amounts are whole DUST in integer columns; every transaction's
 * entries sum to zero (checked by the database at commit); a wallet's balance is a cache of its
 * entries that may never go below zero, except for the system wallets that issue DUST.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('wallets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('person', 'organization', 'app', 'system')`))
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('balance', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('wallets_kind_owner', ['kind', 'owner_id'])
    .addCheckConstraint('wallets_not_negative', sql`kind = 'system' or balance >= 0`)
    .execute();

  await db.schema
    .createTable('ledger_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('signup_grant', 'charge', 'refund', 'transfer', 'purchase', 'purchase_reversal')`),
    )
    .addColumn('reference', 'text')
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('account_id', 'text')
    .addColumn('client_id', 'text')
    .addColumn('organization_id', 'text')
    .addColumn('description', 'text')
    .addColumn('reverses_id', 'text', (c) => c.references('ledger_transactions.id'))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One booking per external fact: one sign-up grant per account, one credit per Stripe payment.
  await db.schema
    .createIndex('ledger_transactions_reference')
    .on('ledger_transactions')
    .columns(['kind', 'reference'])
    .unique()
    .where(sql.ref('reference'), 'is not', null)
    .execute();
  await db.schema.createIndex('ledger_transactions_reverses').on('ledger_transactions').column('reverses_id').execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text', (c) => c.notNull().references('ledger_transactions.id'))
    .addColumn('wallet_id', 'text', (c) => c.notNull().references('wallets.id'))
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount <> 0`))
    .addColumn('created_at', MILLISECONDS, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('ledger_entries_wallet')
    .on('ledger_entries')
    .columns(['wallet_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('ledger_entries_transaction').on('ledger_entries').column('transaction_id').execute();

  await sql`
    create function ledger_check_balanced() returns trigger language plpgsql as $$
    begin
      if (select sum(amount) from ledger_entries where transaction_id = new.transaction_id) <> 0 then
        raise exception 'ledger transaction % is not balanced', new.transaction_id using errcode = '23514';
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create constraint trigger ledger_entries_balanced after insert on ledger_entries
    deferrable initially deferred for each row execute function ledger_check_balanced()`.execute(db);
  // History is never rewritten: corrections are new, reversing transactions.
  await sql`
    create function ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger rows are append-only' using errcode = '42501';
    end $$`.execute(db);
  for (const table of ['ledger_entries', 'ledger_transactions']) {
    await sql`create trigger ${sql.raw(`${table}_append_only`)} before update or delete on ${sql.table(table)}
      for each row execute function ledger_append_only()`.execute(db);
  }

  await db.schema
    .createTable('dust_allowances')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('remaining', 'integer', (c) => c.notNull().check(sql`remaining >= 0`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('dust_allowances_pkey', ['account_id', 'client_id'])
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('response', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_created_at').on('idempotency_keys').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('dust_allowances').execute();
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.dropTable('ledger_transactions').execute();
  await db.schema.dropTable('wallets').execute();
  await sql`drop function ledger_check_balanced`.execute(db);
  await sql`drop function ledger_append_only`.execute(db);
}
