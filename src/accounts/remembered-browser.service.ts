import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import type { RememberedBrowserRepository } from './remembered-browser.repository.ts';

/** How long "Remember this browser" lasts. */
export const REMEMBER_DAYS = 30;
export const REMEMBER_SECONDS = REMEMBER_DAYS * 24 * 3600;

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Browsers a person chose to remember at the second step of a sign-in. The browser holds a random
 * token (a cookie); the database holds only its hash, bound to one account, with an expiry. The MFA
 * policy (oidc/authentication-policy.ts) lets such a browser skip the second step when the app asked
 * for nothing more; the person lists and forgets them on /account/security.
 */
export function createRememberedBrowsers(repository: RememberedBrowserRepository, clock: Clock) {
  return {
    /** A new token for this browser and account; shown to the browser once, as its cookie. */
    async remember(accountId: string, seen: { userAgent?: string | undefined; ip?: string | undefined }) {
      const token = randomBytes(32).toString('base64url');
      const now = clock.now();
      await repository.insert({
        id: randomUUID(),
        account_id: accountId,
        token_hash: hashOf(token),
        user_agent: seen.userAgent?.slice(0, 512) ?? null,
        ip: seen.ip ?? null,
        created_at: new Date(now),
        expires_at: new Date(now + REMEMBER_SECONDS * 1000),
      });
      return { token, maxAgeSeconds: REMEMBER_SECONDS };
    },

    /** Whether this browser's token remembers this account (and has not expired or been forgotten). */
    async recognizes(token: string | undefined, accountId: string): Promise<boolean> {
      if (!token || token.length > 100) return false;
      return repository.touchValid(accountId, hashOf(token), new Date(clock.now()));
    },

    list: (accountId: string) => repository.findUnexpired(accountId, new Date(clock.now())),
    forget: (accountId: string, id: string) => repository.delete(accountId, id),
    forgetAll: (accountId: string) => repository.deleteAll(accountId),
    forgetToken: (token: string) => repository.deleteByToken(hashOf(token)),
  };
}

export type RememberedBrowsers = ReturnType<typeof createRememberedBrowsers>;
