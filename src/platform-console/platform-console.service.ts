import type { AccountStatusService } from '../account-lifecycle/account-status.service.ts';
import type { AccountSessionService, ProviderSessions } from '../accounts/account-session.service.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import type { AuditFilter } from '../audit/audit.repository.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { ClientRegistry } from '../oidc/client-registry.ts';
import type { SigningKeys } from '../oidc/signing-keys.ts';
import type { OrganizationService, StatusAction } from '../organizations/organization.service.ts';
import type { OrganizationStatus } from '../organizations/permissions.ts';
import type { Clock } from '../shared/clock.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import { keyStates } from './key-retirement.ts';
import { platformConsoleErrors as errors } from './platform-console.errors.ts';

type Page = { cursor: CursorKey | undefined; limit: number };

const ORGANIZATION_EVENTS = {
  approve: 'organization_approved',
  reject: 'organization_rejected',
  suspend: 'organization_suspended',
} as const satisfies Record<StatusAction, AuditRecord['event']>;

/**
 * What the platform console reads and does, over the domains' own services: every action is theirs
 * (approval, suspension, key rotation), and every action here is also put on the audit trail with
 * the acting platform owner. Each call checks again that the actor is a platform owner.
 */
export function createPlatformConsoleService(deps: {
  accounts: AccountService;
  organizations: OrganizationService;
  accountStatus: AccountStatusService;
  accountSessions: AccountSessionService;
  providerSessions: ProviderSessions;
  ledger: LedgerService;
  audit: AuditService;
  clients: ClientRegistry;
  keys: SigningKeys;
  /** Tells this instance's provider of a rotation now; the others notice within KEYS_REFRESH_SECONDS. */
  keysChanged: () => Promise<unknown>;
  /** How long a superseded key stays published: the longest token lifetime and the key refresh interval. */
  keyRetirementWaitSeconds: number;
  clock: Clock;
}) {
  async function owner(actorId: string) {
    if (!(await deps.accounts.isPlatformOwner(actorId))) throw errors.platformOwnerRequired();
  }

  async function listKeys(actorId: string) {
    await owner(actorId);
    return keyStates(await deps.keys.list(), deps.keyRetirementWaitSeconds, deps.clock.now());
  }

  const record = (actorId: string, origin: RequestOrigin, entry: Omit<AuditRecord, 'origin' | 'accountId'>) =>
    deps.audit.record({ ...entry, accountId: actorId, origin, detail: { ...entry.detail, via: 'platform_console' } });

  return {
    isPlatformOwner: deps.accounts.isPlatformOwner,

    organizations: (actorId: string, status: OrganizationStatus, page: Page) =>
      deps.organizations.listForPlatform(actorId, status, page),

    async setOrganizationStatus(
      actorId: string,
      origin: RequestOrigin,
      organizationId: string,
      action: StatusAction,
      reason: string | undefined,
    ) {
      const organization = await deps.organizations.setStatus(actorId, organizationId, action, reason);
      await record(actorId, origin, {
        event: ORGANIZATION_EVENTS[action],
        outcome: 'success',
        organizationId,
        detail: { slug: organization.slug, to: organization.status, reason: reason ?? null },
      });
      return organization;
    },

    async searchAccounts(actorId: string, query: string) {
      await owner(actorId);
      return deps.accounts.search(query);
    },

    /** An account as the console shows it, or undefined when no account has that id. */
    async account(actorId: string, accountId: string) {
      await owner(actorId);
      const account = await deps.accounts.findById(accountId);
      if (!account) return undefined;
      const [memberships, sessions, balance, events, clients] = await Promise.all([
        deps.organizations.membershipsOf(accountId),
        deps.accountSessions.listLive(accountId, deps.providerSessions),
        deps.ledger.balance('person', accountId),
        deps.audit.recentFor(accountId, 20),
        deps.clients.listForOwner(accountId),
      ]);
      return { account, memberships, sessions, balance, events, clients };
    },

    /** Suspension itself records the owner who did it (account-status.service.ts). */
    suspend: (actorId: string, accountId: string, reason: string) =>
      deps.accountStatus.suspend({ accountId: actorId }, accountId, reason),

    reactivate: (actorId: string, accountId: string) =>
      deps.accountStatus.reactivate({ accountId: actorId }, accountId),

    async clients(actorId: string) {
      await owner(actorId);
      return deps.clients.list();
    },

    async client(actorId: string, clientId: string) {
      await owner(actorId);
      return deps.clients.find(clientId);
    },

    keys: listKeys,

    async rotateKeys(actorId: string, origin: RequestOrigin) {
      await owner(actorId);
      const kids = await deps.keys.rotate();
      await deps.keysChanged();
      await record(actorId, origin, { event: 'signing_keys_rotated', outcome: 'success', detail: { kids } });
      return kids;
    },

    /**
     * Retires a superseded key once its successor has been published for the waiting time: tokens it
     * signed have expired by then. Refused (and nothing changes) before that, or for a key in use.
     */
    async retireKey(actorId: string, origin: RequestOrigin, kid: string) {
      const state = (await listKeys(actorId)).find((key) => key.kid === kid);
      if (!state) throw errors.keyNotFound();
      if (state.state === 'retired') throw errors.keyRetired();
      if (state.state === 'signing') throw errors.keyInUse();
      if (state.state === 'waiting') throw errors.keyTooEarly(state.retirableAt);
      const cutoff = new Date(deps.clock.now() - deps.keyRetirementWaitSeconds * 1000);
      // The rule again in the one statement that retires, so a rotation in between cannot shorten it.
      const retired = await deps.keys.retire(kid, cutoff);
      if (!retired.length) throw errors.keyTooEarly(state.retirableAt);
      await deps.keysChanged();
      await record(actorId, origin, { event: 'signing_key_retired', outcome: 'success', detail: { kid } });
      return kid;
    },

    audit: (actorId: string, filter: AuditFilter, page: Page) => deps.audit.listForPlatform(actorId, filter, page),
  };
}

export type PlatformConsoleService = ReturnType<typeof createPlatformConsoleService>;
