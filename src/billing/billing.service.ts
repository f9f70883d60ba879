import type { DustPack } from '../config.ts';
import type { OrganizationService } from '../organizations/organization.service.ts';
import { billingErrors as errors } from './billing.errors.ts';
import { FREE_PLAN, type PlanService } from './plan.service.ts';
import type { StripeGateway } from './stripe-gateway.ts';

export type BillingDeps = {
  gateway: Pick<StripeGateway, 'createCheckoutSession'>;
  issuer: string;
  packs: readonly DustPack[];
  plans: PlanService;
  organizations: Pick<OrganizationService, 'authorize' | 'requireActive'>;
};

/**
 * Starts Stripe Checkout for DUST packs and organization plans, and reads plans for members.
 * Nothing is credited here: only a signed webhook says a payment happened.
 */
export function createBillingService(deps: BillingDeps) {
  const { gateway, issuer } = deps;
  // Stripe fills in {CHECKOUT_SESSION_ID}; the account page shows the balance once the webhook has credited it.
  const returnUrls = (param: string) => ({
    success_url: `${issuer}/account?${param}={CHECKOUT_SESSION_ID}`,
    cancel_url: `${issuer}/account`,
  });

  return {
    packs: deps.packs,
    offers: deps.plans.offers,

    async buyDust(accountId: string, packId: string) {
      const pack = deps.packs.find((candidate) => candidate.id === packId);
      if (!pack) throw errors.unknownPack();
      // Metadata carries what was sold, so a later change of DUST_PACKS cannot change what a paid session credits.
      const metadata = { account_id: accountId, pack: pack.id, dust: String(pack.dust) };
      return gateway.createCheckoutSession({
        mode: 'payment',
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: pack.currency,
              unit_amount: pack.priceCents,
              product_data: { name: `${pack.dust} DUST` },
            },
          },
        ],
        client_reference_id: accountId,
        metadata,
        payment_intent_data: { metadata },
        ...returnUrls('dust_checkout'),
      });
    },

    async subscribe(accountId: string, organizationId: string, planId: string) {
      await deps.organizations.authorize(accountId, organizationId, 'billing:manage', 'change its plan');
      await deps.organizations.requireActive(organizationId);
      const offer = deps.plans.offer(planId);
      if (!offer) throw errors.unknownPlan();
      const current = await deps.plans.limitsFor(organizationId);
      if (current.plan !== FREE_PLAN.plan) throw errors.planActive(current.plan);
      // On the subscription too: its customer.subscription.* events carry its metadata, not the session's.
      const metadata = { organization_id: organizationId, plan: offer.id };
      return gateway.createCheckoutSession({
        mode: 'subscription',
        line_items: [{ price: offer.priceId, quantity: 1 }],
        client_reference_id: organizationId,
        metadata,
        subscription_data: { metadata },
        ...returnUrls('plan_checkout'),
      });
    },

    async plan(accountId: string, organizationId: string) {
      await deps.organizations.authorize(accountId, organizationId, 'billing:read', 'see its plan');
      return deps.plans.describe(organizationId);
    },
  };
}

export type BillingService = ReturnType<typeof createBillingService>;
