import type { ColumnType, JSONColumnType, Selectable } from 'kysely';
import type { OrganizationStatus, Role } from './permissions.ts';

export interface OrganizationsTable {
  id: string;
  slug: string;
  name: string;
  status: OrganizationStatus;
  status_reason: string | null;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export interface MembershipsTable {
  organization_id: string;
  account_id: string;
  role: Role;
  created_at: ColumnType<Date, never, never>;
}

export interface OrganizationEventsTable {
  id: string;
  organization_id: string;
  actor_id: string | null;
  action: string;
  subject_id: string | null;
  details: JSONColumnType<Record<string, unknown>>;
  created_at: ColumnType<Date, never, never>;
}

export interface InvitationsTable {
  id: string;
  organization_id: string;
  email: string;
  role: Role;
  token_hash: string;
  invited_by: string | null;
  created_at: ColumnType<Date, never, never>;
  expires_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  declined_at: Date | null;
  revoked_at: Date | null;
}

export interface OrganizationGrantsTable {
  grant_id: string;
  organization_id: string;
  account_id: string;
  created_at: ColumnType<Date, never, never>;
}

export type Invitation = Selectable<InvitationsTable>;
export type Organization = Selectable<OrganizationsTable>;
export type Membership = Selectable<MembershipsTable>;
export type OrganizationEvent = Selectable<OrganizationEventsTable>;

export interface OrganizationTables {
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  organization_events: OrganizationEventsTable;
  invitations: InvitationsTable;
  organization_grants: OrganizationGrantsTable;
}
