import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { ReversalReason } from './billing.table.ts';
import { createPaymentRepository } from './payment.repository.ts';

export type PaidCheckout = { sessionId: string; paymentIntent: string; accountId: string; pack: string; dust: number };

/**
 * Paid DUST Checkout payments into the ledger, and refunds and disputes back out of it.
 *
 * Stripe may deliver a refund before the payment it refunds. Every refund or dispute is therefore
 * first recorded (stripe_reversals), then applied if its payment is known; crediting a payment
 * applies whatever was recorded against it. Each side writes its own row before reading the
 * other's, so whichever commits second sees the first: a reversal is never lost, and applying it
 * twice books it once (the ledger books each reversal target once).
 */
export function createDustPurchaseService(deps: { db: Db; ledger: LedgerService; log: Logger }) {
  const repo = createPaymentRepository(deps.db);

  async function applyWaitingReversals(paymentIntent: string) {
    const payment = await repo.findPaymentByIntent(paymentIntent);
    if (!payment) return;
    for (const reversal of await repo.waitingReversals(paymentIntent)) {
      // The DUST share of the money refunded so far, rounded down: a refund never takes back more.
      const target = Math.floor((payment.dust * reversal.amount_refunded) / reversal.amount);
      const result = await deps.ledger.reversePurchase(payment.session_id, reversal.reason, target);
      if (!result) continue;
      await repo.markReversalApplied(paymentIntent, reversal.reason, result);
      if (result.shortfall > 0) {
        // The DUST was already spent; the money went back anyway. Someone should look at this account.
        deps.log.warn(
          { accountId: payment.account_id, session: payment.session_id, reason: reversal.reason, ...result },
          'purchase reversed only in part',
        );
      }
    }
  }

  return {
    /** Books the pack's DUST once per Checkout Session, however often Stripe announces it. */
    async credit(payment: PaidCheckout): Promise<'credited' | 'already_credited'> {
      const booked = await deps.ledger.purchase({
        accountId: payment.accountId,
        amount: payment.dust,
        reference: payment.sessionId,
        description: `Bought ${payment.dust} DUST (${payment.pack})`,
      });
      // Also after an earlier attempt that booked but stopped before this: the row and the
      // reversals waiting for it must still follow.
      await repo.insertPayment({
        session_id: payment.sessionId,
        payment_intent: payment.paymentIntent,
        account_id: payment.accountId,
        pack: payment.pack,
        dust: payment.dust,
      });
      await applyWaitingReversals(payment.paymentIntent);
      return booked ? 'credited' : 'already_credited';
    },

    /** `amountRefunded` of `amount` (money, minor units) is refunded in all; a dispute claims all of it. */
    async reverse(input: {
      paymentIntent: string;
      reason: ReversalReason;
      eventId: string;
      amountRefunded: number;
      amount: number;
    }): Promise<'reversed' | 'waiting_for_payment'> {
      await repo.recordReversal({
        payment_intent: input.paymentIntent,
        reason: input.reason,
        event_id: input.eventId,
        amount_refunded: input.amountRefunded,
        amount: input.amount,
      });
      if (!(await repo.findPaymentByIntent(input.paymentIntent))) return 'waiting_for_payment';
      await applyWaitingReversals(input.paymentIntent);
      return 'reversed';
    },
  };
}

export type DustPurchaseService = ReturnType<typeof createDustPurchaseService>;
