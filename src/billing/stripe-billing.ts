import type { Logger } from 'pino';
import type { DustPack } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { OrganizationService } from '../organizations/organization.service.ts';
import { createBillingService } from './billing.service.ts';
import { createDustPurchaseService } from './dust-purchase.service.ts';
import type { PlanService } from './plan.service.ts';
import { createStripeEventService } from './stripe-events.service.ts';
import { createStripeGateway, type StripeSettings } from './stripe-gateway.ts';
import { stripeWebhookRoutes } from './stripe-webhook.routes.ts';

/** The Stripe side of DUST and plans, assembled for app.ts when STRIPE_SECRET_KEY is set. */
export function createStripeBilling(deps: {
  stripe: StripeSettings;
  issuer: string;
  packs: readonly DustPack[];
  db: Db;
  ledger: LedgerService;
  plans: PlanService;
  organizations: Pick<OrganizationService, 'authorize' | 'requireActive'>;
  log: Logger;
}) {
  const gateway = createStripeGateway(deps.stripe, deps.log);
  const billing = createBillingService({
    gateway,
    issuer: deps.issuer,
    packs: deps.packs,
    plans: deps.plans,
    organizations: deps.organizations,
  });
  const events = createStripeEventService({
    db: deps.db,
    purchases: createDustPurchaseService({ db: deps.db, ledger: deps.ledger, log: deps.log }),
    plans: deps.plans,
    log: deps.log,
  });
  return {
    /** Checkout and plans, for billingRoutes. */
    service: billing,
    /** POST /webhooks/stripe, a plain Koa middleware: it must see the raw body. */
    webhook: stripeWebhookRoutes({ constructEvent: gateway.constructEvent, events }),
  };
}
