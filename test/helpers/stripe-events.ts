import { randomBytes } from 'node:crypto';
import type { StandInSession } from './stripe-stand-in.ts';

const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** A Stripe event around `object`, shaped like what Stripe POSTs to a webhook endpoint. */
export function stripeEvent(type: string, object: object, options: { id?: string; created?: number } = {}) {
  return {
    id: options.id ?? id('evt'),
    object: 'event',
    api_version: '2026-10-28.endive',
    created: options.created ?? now(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/** The session the stand-in opened, as Stripe reports it once paid. */
export function paidSession(session: StandInSession, paymentIntent = id('pi')) {
  return { ...session, status: 'complete', payment_status: 'paid', payment_intent: paymentIntent, url: null };
}

export function charge(
  paymentIntent: string,
  options: { refunded: boolean; amount?: number; amountRefunded?: number },
) {
  const amount = options.amount ?? 500;
  return {
    id: id('ch'),
    object: 'charge',
    amount,
    amount_refunded: options.amountRefunded ?? (options.refunded ? amount : Math.floor(amount / 2)),
    currency: 'usd',
    payment_intent: paymentIntent,
    refunded: options.refunded,
    status: 'succeeded',
  };
}

export function dispute(paymentIntent: string) {
  return {
    id: id('dp'),
    object: 'dispute',
    amount: 500,
    charge: id('ch'),
    payment_intent: paymentIntent,
    reason: 'fraudulent',
    status: 'needs_response',
  };
}

export function subscription(input: {
  id?: string;
  organizationId: string;
  plan: string;
  priceId: string;
  status: string;
  periodEnd?: number;
}) {
  const periodEnd = input.periodEnd ?? now() + 30 * 24 * 3600;
  return {
    id: input.id ?? id('sub'),
    object: 'subscription',
    status: input.status,
    customer: id('cus'),
    metadata: { organization_id: input.organizationId, plan: input.plan },
    items: {
      object: 'list',
      data: [
        {
          id: id('si'),
          object: 'subscription_item',
          current_period_end: periodEnd,
          price: { id: input.priceId, object: 'price' },
        },
      ],
    },
  };
}
