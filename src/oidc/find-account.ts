import type { FindAccount } from 'oidc-provider';
import { standardClaims, type AccountService } from '../accounts/account.service.ts';
import { grantsOrganization, type ProviderDeps } from './configuration.ts';

export function createFindAccount(
  accounts: AccountService,
  organizationClaims: ProviderDeps['organizationClaims'],
): FindAccount {
  return async (ctx, sub) => {
    const account = await accounts.findForClaims(sub);
    if (!account) return undefined;
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
