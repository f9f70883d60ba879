import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Db } from '../db/database.ts';
import type { DustPurchaseService } from './dust-purchase.service.ts';
import type { PlanService } from './plan.service.ts';
import type { StripeEvent } from './stripe-gateway.ts';
import { createStripeEventRepository } from './stripe-event.repository.ts';
import {
  chargeSchema,
  checkoutSessionSchema,
  disputeSchema,
  subscriptionSchema,
  type CheckoutSessionObject,
  type SubscriptionObject,
} from './stripe-objects.ts';

// Longer than any handler takes; a crashed handler's event is claimable again after it.
const CLAIM_SECONDS = 60;

export type EventResult = { outcome: string } | { duplicate: true } | { busy: true };

/**
 * Verified Stripe events into DUST and plans. Each handled event id is claimed in stripe_events
 * and marked processed only after its work is done, so a redelivery after a crash does the work
 * again, and the work itself is idempotent (one purchase per session, one reversal per reason,
 * plan states ordered by event time). Types we do not handle touch no table.
 */
export function createStripeEventService(deps: {
  db: Db;
  purchases: DustPurchaseService;
  plans: PlanService;
  log: Logger;
}) {
  const repo = createStripeEventRepository(deps.db);

  async function checkoutPaid(session: CheckoutSessionObject): Promise<string> {
    // Subscription Checkouts become plans through the customer.subscription.* events.
    if (session.mode !== 'payment') return 'ignored_not_a_payment';
    // Delayed payment methods complete unpaid; checkout.session.async_payment_succeeded follows.
    if (session.payment_status !== 'paid') return 'waiting_for_payment';
    const { account_id: accountId, pack, dust } = session.metadata;
    const amount = Number(dust);
    if (
      !accountId ||
      !pack ||
      !Number.isSafeInteger(amount) ||
      amount <= 0 ||
      session.client_reference_id !== accountId ||
      !session.payment_intent
    ) {
      deps.log.warn({ session: session.id }, 'a paid Checkout Session without our DUST metadata was not credited');
      return 'ignored_not_a_dust_purchase';
    }
    return deps.purchases.credit({
      sessionId: session.id,
      paymentIntent: session.payment_intent,
      accountId,
      pack,
      dust: amount,
    });
  }

  async function subscriptionChanged(subscription: SubscriptionObject, event: StripeEvent): Promise<string> {
    const item = subscription.items.data[0];
    const offer =
      (item && deps.plans.planForPrice(item.price.id)) ?? deps.plans.offer(subscription.metadata.plan ?? '');
    const organizationId = subscription.metadata.organization_id;
    if (!organizationId || !offer) return 'ignored_not_an_organization_plan';
    const periodEnd = item?.current_period_end ?? subscription.current_period_end;
    return deps.plans.applySubscription({
      organizationId,
      plan: offer.id,
      status: subscription.status,
      subscriptionId: subscription.id,
      currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
      eventAt: new Date(event.created * 1000),
    });
  }

  const handlers: Record<string, (event: StripeEvent) => Promise<string>> = {
    'checkout.session.completed': on(checkoutSessionSchema, checkoutPaid),
    'checkout.session.async_payment_succeeded': on(checkoutSessionSchema, checkoutPaid),
    'charge.refunded': on(chargeSchema, async (charge, event) => {
      if (!charge.payment_intent || charge.amount <= 0) return 'ignored_no_payment_intent';
      return deps.purchases.reverse({
        paymentIntent: charge.payment_intent,
        reason: 'refund',
        eventId: event.id,
        amountRefunded: charge.amount_refunded,
        amount: charge.amount,
      });
    }),
    'charge.dispute.created': on(disputeSchema, async (dispute, event) => {
      if (!dispute.payment_intent) return 'ignored_no_payment_intent';
      return deps.purchases.reverse({
        paymentIntent: dispute.payment_intent,
        reason: 'dispute',
        eventId: event.id,
        amountRefunded: 1,
        amount: 1,
      });
    }),
    'customer.subscription.created': on(subscriptionSchema, subscriptionChanged),
    'customer.subscription.updated': on(subscriptionSchema, subscriptionChanged),
    'customer.subscription.deleted': on(subscriptionSchema, subscriptionChanged),
  };

  /** Parses the event's object first: one we cannot read is logged and not retried forever. */
  function on<S extends z.ZodType>(schema: S, handle: (object: z.output<S>, event: StripeEvent) => Promise<string>) {
    return async (event: StripeEvent) => {
      const parsed = schema.safeParse(event.data.object);
      if (parsed.success) return handle(parsed.data, event);
      deps.log.warn(
        { event: event.id, type: event.type, issue: parsed.error.issues[0] },
        'Stripe event object not understood',
      );
      return 'ignored_unreadable';
    };
  }

  return {
    async handle(event: StripeEvent): Promise<EventResult> {
      const handler = handlers[event.type];
      if (!handler) return { outcome: 'ignored' };
      const claim = await repo.claim(
        { id: event.id, type: event.type, createdAt: new Date(event.created * 1000) },
        CLAIM_SECONDS,
      );
      if (claim === 'processed') return { duplicate: true };
      if (claim === 'busy') return { busy: true };
      let outcome: string;
      try {
        outcome = await handler(event);
      } catch (error) {
        await repo.release(event.id).catch(() => {});
        throw error;
      }
      await repo.markProcessed(event.id, outcome);
      deps.log.info({ event: event.id, type: event.type, outcome }, 'Stripe event processed');
      return { outcome };
    },
  };
}

export type StripeEventService = ReturnType<typeof createStripeEventService>;
