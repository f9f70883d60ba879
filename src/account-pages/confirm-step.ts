import type { Text } from '../i18n/translator.ts';

/**
 * Removals on the account pages (a passkey, the authenticator app, a connected app, a linked
 * identity, every remembered browser) take two presses: the first renders views/account-confirm.eta,
 * whose form alone sends `confirm=yes`. It needs no script, so it works under the pages' CSP and
 * without JavaScript.
 */
export type ConfirmStep = {
  kind: 'passkey' | 'totp' | 'app' | 'identity' | 'browsers';
  /** The account-nav section the page belongs to. */
  nav: string;
  /** What is removed, as the person knows it (a removed app's name is words of ours). */
  name?: string | Text;
  /** How many are removed, for a removal of several (the remembered browsers). */
  count?: number;
  /** The form's action: the same route that asked, now with confirm=yes. */
  action: string;
  fields?: Record<string, string>;
  /** Where "Cancel, keep it" leads. */
  back: string;
  /** Removing it turns two-step sign-in off. */
  lastFactor?: boolean;
};

export const CONFIRM_VIEW = 'account-confirm';

/** The form came from the confirm page (views/account-confirm.eta). */
export function confirmed(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>).confirm === 'yes';
}
