import type { EventDraft } from '../events/event-catalog.ts';

/**
 * account.factor_added or account.factor_removed, written with the factor's row. `clientId` is the app
 * the person was signing in to when they enrolled during a sign-in; none on their own pages.
 */
export const factorEvent = (
  type: 'account.factor_added' | 'account.factor_removed',
  accountId: string,
  factor: 'totp' | 'passkey',
  clientId?: string | undefined,
): EventDraft => ({
  type,
  actor: { type: 'account', id: accountId, client_id: clientId ?? null },
  subject: { type: 'account', id: accountId },
  data: { factor },
});
