import type { ColumnType, Selectable } from 'kysely';

export const REVERSAL_REASONS = ['refund', 'dispute'] as const;
export type ReversalReason = (typeof REVERSAL_REASONS)[number];

export interface StripeEventsTable {
  id: string;
  type: string;
  stripe_created_at: Date;
  received_at: ColumnType<Date, never, never>;
  claimed_until: Date | null;
  processed_at: Date | null;
  outcome: string | null;
}

export interface StripePaymentsTable {
  session_id: string;
  payment_intent: string;
  account_id: string;
  pack: string;
  dust: number;
  created_at: ColumnType<Date, never, never>;
}

export interface StripeReversalsTable {
  payment_intent: string;
  reason: ReversalReason;
  event_id: string;
  amount_refunded: number;
  amount: number;
  created_at: ColumnType<Date, never, never>;
  applied_at: Date | null;
  reversed: number | null;
  shortfall: number | null;
}

export interface OrganizationPlansTable {
  organization_id: string;
  plan: string;
  status: string;
  stripe_subscription_id: string;
  current_period_end: Date | null;
  stripe_event_at: Date;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type StripePayment = Selectable<StripePaymentsTable>;
export type StripeReversal = Selectable<StripeReversalsTable>;
export type OrganizationPlan = Selectable<OrganizationPlansTable>;

export interface BillingTables {
  stripe_events: StripeEventsTable;
  stripe_payments: StripePaymentsTable;
  stripe_reversals: StripeReversalsTable;
  organization_plans: OrganizationPlansTable;
}
