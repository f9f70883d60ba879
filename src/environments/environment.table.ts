import type { ColumnType, JSONColumnType, Selectable } from 'kysely';

export const ENVIRONMENT_STATES = [
  'provisioning',
  'running',
  'stopping',
  'stopped',
  'starting',
  'deleting',
  'deleted',
  'error',
] as const;
export type EnvironmentState = (typeof ENVIRONMENT_STATES)[number];

/** Where the owner wants the environment to be; the reconciler moves `state` toward it. */
export type DesiredState = 'running' | 'stopped' | 'deleted';

export interface EnvironmentsTable {
  id: string;
  /** Exactly one of account_id (a person's own) and organization_id is set. */
  account_id: string | null;
  organization_id: string | null;
  created_by: string;
  name: string;
  template: string;
  tier: string;
  size: string;
  region: string;
  image: string;
  state: EnvironmentState;
  desired_state: DesiredState;
  machine_id: string | null;
  volume_id: string | null;
  ssh_key_id: string | null;
  ip_address: string | null;
  ssh_port: number | null;
  client_public_key: string;
  client_private_key_sealed: string;
  host_public_key: string;
  host_private_key_sealed: string;
  /** The current start's single-use phone-home secret (hashed); null once used or between starts. */
  phone_home_hash: string | null;
  last_error: string | null;
  /** Why it was last stopped by FairyID rather than by its owner (`insufficient_funds`, `idle`). */
  stop_reason: string | null;
  idempotency_scope: string;
  idempotency_key: string;
  request_hash: string;
  /** The reconciler's claim on this row: who works on it, until when, and when to try again. */
  lease_owner: string | null;
  lease_until: Date | null;
  next_attempt_at: Date | null;
  attempts: ColumnType<number, number | undefined, number>;
  transition_started_at: Date | null;
  machine_created_at: Date | null;
  /** When the current run became ready: metering counts started hours from here. */
  running_since: Date | null;
  /** Hours of the current run known to be booked; the ledger's unique reference is what makes it exact. */
  metered_hours: ColumnType<number, number | undefined, number>;
  last_activity_at: Date | null;
  idle_warned_at: Date | null;
  low_balance_warned_at: Date | null;
  created_at: ColumnType<Date, Date, never>;
  updated_at: ColumnType<Date, Date, Date>;
  deleted_at: Date | null;
}

export interface EnvironmentEventsTable {
  id: string;
  environment_id: string;
  kind: string;
  from_state: EnvironmentState | null;
  to_state: EnvironmentState | null;
  message: string | null;
  actor_id: string | null;
  client_id: string | null;
  detail: JSONColumnType<Record<string, unknown>, string, never>;
  created_at: ColumnType<Date, Date, never>;
}

export interface EnvironmentTemplatesTable {
  id: string;
  name: string;
  description: string;
  image: string;
  default_tier: string;
  user_data: JSONColumnType<Record<string, unknown>, string, string>;
  /** Kept for environments made from it, but no longer offered (its file was removed). */
  retired: boolean;
  updated_at: ColumnType<Date, Date, Date>;
}

/** One row per owner (`account:<id>` or `organization:<id>`), locked while a create counts its limit. */
export interface EnvironmentOwnersTable {
  owner_key: string;
}

export type Environment = Selectable<EnvironmentsTable>;
export type EnvironmentEvent = Selectable<EnvironmentEventsTable>;
export type EnvironmentTemplateRow = Selectable<EnvironmentTemplatesTable>;

export interface EnvironmentTables {
  environments: EnvironmentsTable;
  environment_events: EnvironmentEventsTable;
  environment_templates: EnvironmentTemplatesTable;
  environment_owners: EnvironmentOwnersTable;
}
