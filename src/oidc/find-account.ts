import type { FindAccount } from 'oidc-provider';
import { standardClaims, type AccountService } from '../accounts/account.service.ts';
import { grantsOrganization, type ProviderDeps } from './configuration.ts';

export function createFindAccount(
  accounts: AccountService,
  organizationClaims: ProviderDeps['organizationClaims'],
): FindAccount {
  return async (ctx, sub) => {
    const account = await accounts.findForClaims(sub);
    // A suspended or deleted account is no account to oidc-provider: a session of it signs in
    // afresh, and its refresh tokens and access tokens find nobody (invalid_grant, invalid_token).
    if (account?.status !== 'active') return undefined;
    return {
      accountId: account.id,
      async claims() {
        const grantId = ctx.oidc.entities.Grant?.jti;
        const organization = grantId && grantsOrganization(ctx) ? await organizationClaims(grantId) : undefined;
        return { ...standardClaims(account), ...(organization ?? {}) };
      },
    };
  };
}
