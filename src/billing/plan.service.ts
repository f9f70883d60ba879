import type { Db } from '../db/database.ts';
import type { PlanOffer } from '../config.ts';
import type { OrganizationPlan } from './billing.table.ts';
import { createPlanRepository, type PlanRepository } from './plan.repository.ts';

/** What an organization without a paying subscription gets. */
export const FREE_PLAN = { plan: 'free', environments: 1 } as const;

// Stripe keeps serving a past_due subscription while it retries the payment, and so do we.
const ENTITLED = new Set(['active', 'trialing', 'past_due']);
// Stripe never brings these back: a later change means a new subscription.
const ENDED = new Set(['canceled', 'incomplete_expired']);

export type PlanLimits = { plan: string; status: string; environments: number };

/** A subscription as one webhook event saw it, at `eventAt` (the event's `created`). */
export type SubscriptionState = {
  organizationId: string;
  plan: string;
  status: string;
  subscriptionId: string;
  currentPeriodEnd: Date | null;
  eventAt: Date;
};

/**
 * Whether `incoming` is newer news than what is stored. Stripe does not deliver in order, so each
 * event is compared with the stored state instead of simply overwriting it.
 */
export function supersedes(stored: OrganizationPlan | undefined, incoming: SubscriptionState): boolean {
  if (!stored) return true;
  const newer = incoming.eventAt.getTime() >= stored.stripe_event_at.getTime();
  if (stored.stripe_subscription_id === incoming.subscriptionId) {
    // `created` has one-second resolution; an update in the same second as the cancellation is not newer.
    return newer && !(ENDED.has(stored.status) && !ENDED.has(incoming.status));
  }
  // Another subscription of the organization: a replaced one ending must not end its replacement.
  if (ENDED.has(incoming.status)) return false;
  return ENDED.has(stored.status) || newer;
}

/** Organization plans as Stripe subscriptions keep them; other domains ask `limitsFor`. */
export function createPlanService(deps: { db: Db; offers: readonly PlanOffer[] }) {
  const read = createPlanRepository(deps.db);
  const inTransaction = <T>(work: (repo: PlanRepository) => Promise<T>) =>
    deps.db.transaction().execute((trx) => work(createPlanRepository(trx)));

  const offer = (id: string) => deps.offers.find((candidate) => candidate.id === id);

  function limits(row: OrganizationPlan | undefined): PlanLimits {
    const paid = row && ENTITLED.has(row.status) ? offer(row.plan) : undefined;
    // A plan removed from STRIPE_PLANS grants nothing beyond the free plan.
    if (!row || !paid) return { ...FREE_PLAN, status: row?.status ?? 'none' };
    return { plan: paid.id, status: row.status, environments: paid.environments };
  }

  return {
    offers: deps.offers,
    offer,
    planForPrice: (priceId: string) => deps.offers.find((candidate) => candidate.priceId === priceId),

    /** The plan in force: a paid plan while its subscription is active, trialing or past due, else free. */
    async limitsFor(organizationId: string): Promise<PlanLimits> {
      return limits(await read.find(organizationId));
    },

    async describe(organizationId: string) {
      const row = await read.find(organizationId);
      return { ...limits(row), currentPeriodEnd: row?.current_period_end ?? null };
    },

    /** Stores the subscription's state unless the stored one is newer; says what happened. */
    async applySubscription(
      state: SubscriptionState,
    ): Promise<'plan_updated' | 'plan_not_newer' | 'organization_gone'> {
      return inTransaction(async (repo) => {
        if (!(await repo.lockOrganization(state.organizationId))) return 'organization_gone';
        if (!supersedes(await repo.find(state.organizationId), state)) return 'plan_not_newer';
        await repo.upsert({
          organization_id: state.organizationId,
          plan: state.plan,
          status: state.status,
          stripe_subscription_id: state.subscriptionId,
          current_period_end: state.currentPeriodEnd,
          stripe_event_at: state.eventAt,
        });
        return 'plan_updated';
      });
    },
  };
}

export type PlanService = ReturnType<typeof createPlanService>;
