import { z } from 'zod';

/**
 * The fields we read from the objects inside Stripe events, checked at run time: an event's shape
 * follows the webhook endpoint's API version, not the client library's types.
 */
const id = z.string().min(1);
// Expandable references arrive as an id, or as the object when expanded.
const reference = z.union([id, z.object({ id })]).transform((value) => (typeof value === 'string' ? value : value.id));
const metadata = z
  .record(z.string(), z.string())
  .nullish()
  .transform((value) => value ?? {});

export const checkoutSessionSchema = z.object({
  id,
  mode: z.string(),
  payment_status: z.string(),
  client_reference_id: z.string().nullish(),
  payment_intent: reference.nullish(),
  metadata,
});

export const chargeSchema = z.object({
  id,
  payment_intent: reference.nullish(),
  // True only once the whole charge was refunded.
  refunded: z.boolean(),
  amount: z.number(),
  amount_refunded: z.number(),
});

export const disputeSchema = z.object({ id, payment_intent: reference.nullish() });

export const subscriptionSchema = z.object({
  id,
  status: z.string(),
  metadata,
  // On the subscription before API version 2025-03-31, on its items since.
  current_period_end: z.number().nullish(),
  items: z.object({
    data: z.array(z.object({ price: z.object({ id }), current_period_end: z.number().nullish() })),
  }),
});

export type CheckoutSessionObject = z.output<typeof checkoutSessionSchema>;
export type SubscriptionObject = z.output<typeof subscriptionSchema>;
