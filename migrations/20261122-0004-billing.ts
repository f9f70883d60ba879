import { sql, type Kysely } from 'kysely';

/**
 * Stripe: the webhook events we acted on, the Checkout payments that bought DUST, the refunds and
 * disputes against them, and each organization's current plan. DUST itself moves only in the
 * ledger's tables; these record why.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // One row per handled event id: a redelivery finds it processed; a concurrent one finds it claimed.
  await db.schema
    .createTable('stripe_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('stripe_created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('claimed_until', 'timestamptz')
    .addColumn('processed_at', 'timestamptz')
    .addColumn('outcome', 'text')
    .execute();

  // A credited Checkout Session; refunds and disputes name the payment intent, not the session.
  await db.schema
    .createTable('stripe_payments')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('payment_intent', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('pack', 'text', (c) => c.notNull())
    .addColumn('dust', 'integer', (c) => c.notNull().check(sql`dust > 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Every refund or dispute, recorded before it is applied: one that arrives before its payment
  // waits here (applied_at null) until the payment is credited.
  await db.schema
    .createTable('stripe_reversals')
    .addColumn('payment_intent', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`reason in ('refund', 'dispute')`))
    .addColumn('event_id', 'text', (c) => c.notNull())
    // How much of the payment (in its currency's minor unit) is refunded so far: the share of
    // DUST to take back is dust * amount_refunded / amount, so partial refunds take their part.
    .addColumn('amount_refunded', 'integer', (c) => c.notNull())
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('applied_at', 'timestamptz')
    .addColumn('reversed', 'integer')
    .addColumn('shortfall', 'integer')
    .addPrimaryKeyConstraint('stripe_reversals_pkey', ['payment_intent', 'reason'])
    .execute();

  await db.schema
    .createTable('organization_plans')
    .addColumn('organization_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stripe_subscription_id', 'text', (c) => c.notNull())
    .addColumn('current_period_end', 'timestamptz')
    // When Stripe produced the state stored here: an event older than this does not overwrite it.
    .addColumn('stripe_event_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['organization_plans', 'stripe_reversals', 'stripe_payments', 'stripe_events']) {
    await db.schema.dropTable(table).execute();
  }
}
