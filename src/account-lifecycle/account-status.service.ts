import type { AccountService } from '../accounts/account.service.ts';
import type { AccountSessionService, ProviderSessions } from '../accounts/account-session.service.ts';
import type { Account } from '../accounts/account.table.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Actor } from '../events/event-catalog.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import { accountLifecycleErrors as errors } from './account-lifecycle.errors.ts';

/**
 * Who changes an account's status: a platform owner through the API, or the operator's CLI (no
 * account). The record names them by account id; their address is not put on the person's trail.
 */
export type StatusActor = { accountId: string | undefined };

/** What cutting an account off takes from the provider's side (oidc/blocked-accounts.ts). */
export type AccountAccess = {
  /** Marks the account blocked for /api and revokes all its grants, published with `cause`; how many. */
  block(accountId: string, cause: GrantRevocationCause): Promise<number>;
  unblock(accountId: string): Promise<void>;
};

/** What a suspension stops in the environments domain (environment.service.ts). */
export type OwnedEnvironments = {
  /** Stops the person's own running environments as FairyID stops them for lack of DUST; how many. */
  stopAllOf(accountId: string, reason: 'account_suspended', message: string): Promise<number>;
};

type Deps = {
  accounts: AccountService;
  sessions: AccountSessionService;
  providerSessions: ProviderSessions;
  access: AccountAccess;
  environments: OwnedEnvironments;
  audit: AuditService;
};

/**
 * Suspension and reactivation. Suspending takes effect at once on the instance that does it and
 * everywhere that matters at once too: sign-in reads the status from the database, every session
 * ends, every grant is revoked (refreshes fail with invalid_grant), /api refuses the account's
 * tokens, and the person's own environments stop (no more DUST spent, no terminal to use).
 * Reactivating restores sign-in only: the revoked grants stay revoked, apps must ask again, and
 * the environments stay stopped until the person starts them.
 */
export function createAccountStatusService(deps: Deps) {
  async function authorize(actor: StatusActor, targetId: string): Promise<Account> {
    if (actor.accountId !== undefined && !(await deps.accounts.isPlatformOwner(actor.accountId)))
      throw errors.platformOwnerRequired();
    const account = await deps.accounts.findById(targetId);
    if (!account) throw errors.notFound();
    return account;
  }

  /**
   * Ends every session and revokes every grant of the account (also used by deletion); `cause` is
   * what each grant's grant.revoked says. The records this leaves on the account carry no address or
   * browser: they are shown to the person on their Activity page, and the platform owner's
   * whereabouts are not theirs to see.
   */
  async function cutOff(accountId: string, cause: GrantRevocationCause) {
    const origin: RequestOrigin = { ip: null, userAgent: null };
    const grants = await deps.access.block(accountId, cause);
    const sessions = await deps.sessions.signOutOthers(accountId, '', origin, deps.providerSessions, cause);
    return { grants, sessions };
  }

  return {
    cutOff,

    async suspend(actor: StatusActor, targetId: string, reason: string): Promise<Account> {
      const account = await authorize(actor, targetId);
      if (actor.accountId === targetId) throw errors.notYourself();
      const suspended = await deps.accounts.changeStatus(targetId, { to: 'suspended', reason, from: ['active'] });
      if (!suspended) throw errors.invalidTransition(account.status, 'suspended');
      // The operator's CLI acts as no account: FairyID itself, for whoever reads the events.
      const by: Actor = actor.accountId ? { type: 'account', id: actor.accountId } : { type: 'system' };
      const ended = await cutOff(targetId, { actor: by, reason: 'account_suspended' });
      const environments = await deps.environments.stopAllOf(
        targetId,
        'account_suspended',
        'Stopped: the account was suspended',
      );
      await deps.audit.record({
        event: 'account_suspended',
        outcome: 'success',
        origin: { ip: null, userAgent: null },
        accountId: targetId,
        detail: { reason, by: actor.accountId ?? 'operator', ...ended, environments },
      });
      return suspended;
    },

    async reactivate(actor: StatusActor, targetId: string): Promise<Account> {
      const account = await authorize(actor, targetId);
      const active = await deps.accounts.changeStatus(targetId, { to: 'active', reason: null, from: ['suspended'] });
      if (!active) throw errors.invalidTransition(account.status, 'reactivated');
      await deps.access.unblock(targetId);
      await deps.audit.record({
        event: 'account_reactivated',
        outcome: 'success',
        origin: { ip: null, userAgent: null },
        accountId: targetId,
        detail: { by: actor.accountId ?? 'operator' },
      });
      return active;
    },
  };
}

export type AccountStatusService = ReturnType<typeof createAccountStatusService>;
