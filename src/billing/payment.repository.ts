import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ReversalReason, StripePaymentsTable } from './billing.table.ts';

/** SQL for credited Checkout payments and the refunds and disputes against them. */
export function createPaymentRepository(db: Db) {
  return {
    async insertPayment(row: Omit<StripePaymentsTable, 'created_at'>) {
      await db
        .insertInto('stripe_payments')
        .values(row)
        .onConflict((c) => c.doNothing())
        .execute();
    },

    findPaymentByIntent(paymentIntent: string) {
      return db
        .selectFrom('stripe_payments')
        .selectAll()
        .where('payment_intent', '=', paymentIntent)
        .executeTakeFirst();
    },

    /**
     * One row per payment and reason. Stripe reports refunds cumulatively and possibly out of order,
     * so the largest refunded amount wins, and a larger one makes the row wait to be applied again.
     */
    async recordReversal(row: {
      payment_intent: string;
      reason: ReversalReason;
      event_id: string;
      amount_refunded: number;
      amount: number;
    }) {
      await db
        .insertInto('stripe_reversals')
        .values(row)
        .onConflict((c) =>
          c.columns(['payment_intent', 'reason']).doUpdateSet({
            // Both expressions read the row as it was before this statement.
            applied_at: sql<Date | null>`case when excluded.amount_refunded > stripe_reversals.amount_refunded then null else stripe_reversals.applied_at end`,
            amount_refunded: sql<number>`greatest(stripe_reversals.amount_refunded, excluded.amount_refunded)`,
          }),
        )
        .execute();
    },

    waitingReversals(paymentIntent: string) {
      return db
        .selectFrom('stripe_reversals')
        .selectAll()
        .where('payment_intent', '=', paymentIntent)
        .where('applied_at', 'is', null)
        .orderBy('created_at')
        .execute();
    },

    /**
     * Two handlers may apply one reversal at once (its event and its payment's); the ledger books it
     * once and the other sees nothing left, so amounts add up and the larger shortfall is kept.
     */
    async markReversalApplied(
      paymentIntent: string,
      reason: ReversalReason,
      result: { reversed: number; shortfall: number },
    ) {
      await db
        .updateTable('stripe_reversals')
        .set({
          applied_at: sql<Date>`coalesce(applied_at, now())`,
          reversed: sql<number>`coalesce(reversed, 0) + ${result.reversed}`,
          shortfall: sql<number>`greatest(coalesce(shortfall, 0), ${result.shortfall})`,
        })
        .where('payment_intent', '=', paymentIntent)
        .where('reason', '=', reason)
        .execute();
    },
  };
}

export type PaymentRepository = ReturnType<typeof createPaymentRepository>;
