import type { Account } from '../accounts/account.table.ts';
import type { AccountSession } from '../accounts/account-session.table.ts';
import type { AuditEvent } from '../audit/audit.table.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { Organization } from '../organizations/organization.table.ts';
import type { KeyState } from './key-retirement.ts';

/** A moment the console shows: `<time datetime="iso">` around the page's own words for `at` (it.utc). */
export type ConsoleTime = { iso: string; at: Date };

export function consoleTime(at: Date): ConsoleTime {
  return { iso: at.toISOString(), at };
}

export const presentOrganization = (organization: Organization) => ({
  id: organization.id,
  name: organization.name,
  slug: organization.slug,
  status: organization.status,
  reason: organization.status_reason,
  createdBy: organization.created_by,
  createdAt: consoleTime(organization.created_at),
  canApprove: organization.status !== 'active',
  canReject: organization.status === 'pending',
  canSuspend: organization.status === 'active',
});

export const presentAccount = (account: Account) => ({
  id: account.id,
  fairyname: account.fairyname,
  email: account.email,
  phone: account.phone_number,
  name: account.name,
  status: account.status,
  reason: account.status_reason,
  statusChangedAt: account.status_changed_at ? consoleTime(account.status_changed_at) : undefined,
  builder: account.builder,
  createdAt: consoleTime(account.created_at),
});

export const presentSession = (session: AccountSession) => ({
  uid: session.session_uid,
  ip: session.ip,
  userAgent: session.user_agent,
  signedInAt: consoleTime(session.created_at),
  lastSeenAt: consoleTime(session.last_seen_at),
});

export const presentAuditEvent = (event: AuditEvent) => ({
  id: event.id,
  type: event.event,
  failed: event.outcome === 'failure',
  accountId: event.account_id,
  organizationId: event.organization_id,
  clientId: event.client_id,
  ip: event.ip,
  requestId: event.request_id,
  detail: event.detail && Object.keys(event.detail).length ? JSON.stringify(event.detail) : undefined,
  at: consoleTime(event.created_at),
});

/** A client's registration, without its secret's hash. */
export const presentClient = (client: ClientMetadata) => ({
  id: client.client_id,
  name: client.client_name ?? client.client_id,
  authMethod: client.token_endpoint_auth_method,
  grantTypes: client.grant_types,
  responseTypes: client.response_types,
  redirectUris: client.redirect_uris ?? [],
  postLogoutRedirectUris: client.post_logout_redirect_uris ?? [],
  scope: client.scope,
  applicationType: client.application_type ?? 'web',
  firstParty: client.first_party === true,
  organizationId: client.organization_id,
  ownerAccountId: client.owner_account_id,
  backchannelLogoutUri: client.backchannel_logout_uri,
});

export const presentKey = (key: KeyState) => ({
  kid: key.kid,
  alg: key.alg,
  state: key.state,
  createdAt: consoleTime(key.createdAt),
  supersededAt: key.supersededAt ? consoleTime(key.supersededAt) : undefined,
  retirableAt: key.retirableAt ? consoleTime(key.retirableAt) : undefined,
  retiredAt: key.retiredAt ? consoleTime(key.retiredAt) : undefined,
});
