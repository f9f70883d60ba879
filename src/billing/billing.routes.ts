import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { timestamp } from '../http/api-schemas.ts';
import { requirePerson } from '../oidc/caller.ts';
import type { BillingService } from './billing.service.ts';

const checkoutSchema = z.object({
  id: z.string().describe('The Stripe Checkout Session id'),
  url: z.string().describe('Send the person here to pay'),
});
const packSchema = z.object({
  id: z.string(),
  dust: z.number().int(),
  price: z.number().int().describe('In the smallest unit of the currency (cents)'),
  currency: z.string(),
});
const planSchema = z.object({
  plan: z.string().describe('The plan in force: free unless a subscription is active, trialing or past due'),
  status: z.string().describe('The Stripe subscription status, or none'),
  environments: z.number().int(),
  current_period_end: timestamp.nullable(),
});

/** An enum for the OpenAPI document, or a clear refusal when the catalog is empty. */
function oneOf(ids: string[], what: string) {
  const [first, ...rest] = ids;
  return first === undefined ? z.string().refine(() => false, `no ${what} is offered`) : z.enum([first, ...rest]);
}

/** Buying DUST and organization plans through Stripe Checkout; present only when Stripe is configured. */
export function billingRoutes(billing: BillingService): ApiRoute[] {
  const orgParams = z.object({ id: z.uuid() });
  return [
    defineRoute({
      method: 'get',
      path: '/api/dust/packs',
      summary: 'The DUST packs for sale',
      tag: 'DUST',
      scopes: ['dust:read'],
      response: z.object({ data: z.array(packSchema) }),
      async handler() {
        return {
          data: billing.packs.map((pack) => ({
            id: pack.id,
            dust: pack.dust,
            price: pack.priceCents,
            currency: pack.currency,
          })),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/dust/checkout',
      summary: 'Start a Stripe Checkout for a DUST pack; the DUST arrives when Stripe confirms the payment',
      tag: 'DUST',
      scopes: ['dust:manage'],
      body: z.object({
        pack: oneOf(
          billing.packs.map((pack) => pack.id),
          'DUST pack',
        ),
      }),
      response: checkoutSchema,
      status: 201,
      async handler(ctx, { body }) {
        return billing.buyDust(requirePerson(ctx.state), body.pack);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/organizations/:id/plan/checkout',
      summary: 'Start a Stripe Checkout subscribing an approved organization to a plan (owner, billing)',
      tag: 'Organizations',
      scopes: ['organizations:write'],
      params: orgParams,
      body: z.object({
        plan: oneOf(
          billing.offers.map((offer) => offer.id),
          'plan',
        ),
      }),
      response: checkoutSchema,
      status: 201,
      async handler(ctx, { params, body }) {
        return billing.subscribe(requirePerson(ctx.state), params.id, body.plan);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations/:id/plan',
      summary: 'An organization’s plan and what it allows (owner, admin, billing)',
      tag: 'Organizations',
      scopes: ['organizations:read'],
      params: orgParams,
      response: planSchema,
      async handler(ctx, { params }) {
        const { currentPeriodEnd, ...limits } = await billing.plan(requirePerson(ctx.state), params.id);
        return { ...limits, current_period_end: currentPeriodEnd?.toISOString() ?? null };
      },
    }),
  ];
}
