import type { FindAccount } from 'oidc-provider';
import { standardClaims, type AccountService } from '../accounts/account.service.ts';

export function createFindAccount(accounts: AccountService): FindAccount {
  return async (_ctx, sub) => {
    const account = await accounts.findById(sub);
    if (!account) return undefined;
    return { accountId: account.id, claims: () => standardClaims(account) };
  };
}
