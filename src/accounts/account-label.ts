import type { Account } from './account.table.ts';
import { formatPhoneNumber } from './phone-number.ts';

/** How pages and authenticators name an account: the address the person signs in with, else their fairyname. */
export function accountLabel(account: Pick<Account, 'email' | 'phone_number' | 'fairyname'>): string {
  return account.email ?? (account.phone_number ? formatPhoneNumber(account.phone_number) : account.fairyname);
}
