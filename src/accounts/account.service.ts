import { randomUUID } from 'node:crypto';
import type { AccountRepository, IdentifierUpdate } from './account.repository.ts';
import { hasSecondFactor, type FactorSummaryRepository } from './factor-summary.repository.ts';
import type { Account } from './account.table.ts';
import { generateFairyname } from './fairyname.ts';
import type { Profile } from './profile.ts';
import { type Clock, systemClock } from '../shared/clock.ts';

const FAIRYNAME_ATTEMPTS = 8;

/** After "Not now", the passkey offer stays away this long. */
export const PASSKEY_OFFER_PAUSE_DAYS = 30;

/**
 * How long an account read for token claims (userinfo, refresh, ID tokens) may be reused. A change
 * made through this service is seen at once by this instance; another instance sees it within this.
 */
export const CLAIMS_CACHE_SECONDS = 10;
const CLAIMS_CACHE_SIZE = 10_000;

export function createAccountService(
  accounts: AccountRepository,
  factors: FactorSummaryRepository,
  options: { platformOwnerEmail?: string | undefined; clock?: Clock } = {},
) {
  const clock = options.clock ?? systemClock;
  const claimsCache = new Map<string, { account: Account; until: number }>();
  const forget = <T>(id: string, result: T): T => {
    claimsCache.delete(id);
    return result;
  };

  return {
    findById: (id: string) => accounts.findById(id),

    /** The account as token claims show it: at most CLAIMS_CACHE_SECONDS old. */
    async findForClaims(id: string): Promise<Account | undefined> {
      const cached = claimsCache.get(id);
      if (cached && cached.until > clock.now()) return cached.account;
      claimsCache.delete(id);
      const account = await accounts.findById(id);
      if (!account) return undefined;
      const oldest = claimsCache.keys().next();
      if (claimsCache.size >= CLAIMS_CACHE_SIZE && !oldest.done) claimsCache.delete(oldest.value);
      claimsCache.set(id, { account, until: clock.now() + CLAIMS_CACHE_SECONDS * 1000 });
      return account;
    },

    factorSummary: (id: string) => factors.summarize(id),

    /**
     * Whether to offer "Sign in faster next time: create a passkey" after a code sign-in: only to a
     * person with no second factor (else whoever holds just the mailbox could plant one), and not
     * within PASSKEY_OFFER_PAUSE_DAYS of their last "Not now".
     */
    async passkeyOfferDue(account: Account): Promise<boolean> {
      const skipped = account.passkey_offer_skipped_at;
      if (skipped && clock.now() - skipped.getTime() < PASSKEY_OFFER_PAUSE_DAYS * 24 * 3600 * 1000) return false;
      return !hasSecondFactor(await factors.summarize(account.id));
    },

    passkeyOfferSkipped: (id: string) => accounts.setPasskeyOfferSkipped(id, new Date(clock.now())),

    /** Once a person has a second factor, every sign-in asks for it (the `mfa` prompt). */
    requiresSecondFactor: async (id: string) => hasSecondFactor(await factors.summarize(id)),

    /** The platform owner is named by PLATFORM_OWNER_EMAIL (a verified address) or set with the CLI. */
    async isPlatformOwner(id: string): Promise<boolean> {
      const account = await accounts.findById(id);
      if (!account) return false;
      return (
        account.platform_owner ||
        (!!options.platformOwnerEmail && account.email_verified && account.email === options.platformOwnerEmail)
      );
    },

    /** False when no account has that email. */
    setPlatformOwner: (email: string, owner: boolean) => accounts.updatePlatformOwner(email, owner),

    /** A verified email signs in to its account, creating the account on first sign-in. */
    async signInWithVerifiedEmail(email: string): Promise<{ account: Account; created: boolean }> {
      for (let attempt = 0; attempt < FAIRYNAME_ATTEMPTS; attempt += 1) {
        const existing = await accounts.findByEmail(email);
        if (existing) return { account: existing, created: false };
        const inserted = await accounts.insertWithEmail({ id: randomUUID(), email, fairyname: generateFairyname() });
        if (inserted) return { account: inserted, created: true };
        // A conflict is either a concurrent sign-up with this email (found on the next pass) or a
        // fairyname collision (a fresh name on the next pass).
      }
      throw new Error('could not allocate a unique fairyname');
    },

    /** A verified phone number (E.164) signs in to its account, creating the account on first sign-in. */
    async signInWithVerifiedPhone(phoneNumber: string): Promise<{ account: Account; created: boolean }> {
      for (let attempt = 0; attempt < FAIRYNAME_ATTEMPTS; attempt += 1) {
        const existing = await accounts.findByPhoneNumber(phoneNumber);
        if (existing) return { account: existing, created: false };
        const inserted = await accounts.insertWithPhoneNumber({
          id: randomUUID(),
          phone_number: phoneNumber,
          fairyname: generateFairyname(),
        });
        if (inserted) return { account: inserted, created: true };
        // As for email: a concurrent sign-up with this number, or a fairyname collision.
      }
      throw new Error('could not allocate a unique fairyname');
    },

    /**
     * A new account that signs in only through an upstream identity linked to it: the upstream's
     * address is not one FairyID has verified, so the account does not take it.
     */
    async signUpWithoutAddress(): Promise<Account> {
      for (let attempt = 0; attempt < FAIRYNAME_ATTEMPTS; attempt += 1) {
        const inserted = await accounts.insertWithoutAddress({ id: randomUUID(), fairyname: generateFairyname() });
        if (inserted) return inserted;
      }
      throw new Error('could not allocate a unique fairyname');
    },

    /** False when the account no longer exists. */
    updateProfile: async (id: string, profile: Profile) =>
      forget(id, await accounts.updateProfile(id, { name: profile.name, picture_url: profile.pictureUrl })),

    /** A newly verified email becomes the one the account signs in with; `taken` when another account has it. */
    changeEmail: async (id: string, email: string): Promise<IdentifierUpdate> =>
      forget(id, await accounts.updateEmail(id, email)),

    /** A newly verified phone number (E.164) becomes the one the account signs in with; `taken` when another account has it. */
    changePhone: async (id: string, phoneNumber: string): Promise<IdentifierUpdate> =>
      forget(id, await accounts.updatePhoneNumber(id, phoneNumber)),

    /** The account an email address or phone number signs in to, if any (to file a failed attempt under it). */
    findBySignInAddress(channel: 'email' | 'sms', address: string): Promise<Account | undefined> {
      return channel === 'email' ? accounts.findByEmail(address) : accounts.findByPhoneNumber(address);
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;

/** OpenID Connect Core 5.1 standard claims for an account. */
export function standardClaims(account: Account) {
  return {
    sub: account.id,
    email: account.email ?? undefined,
    email_verified: account.email ? account.email_verified : undefined,
    phone_number: account.phone_number ?? undefined,
    phone_number_verified: account.phone_number ? account.phone_number_verified : undefined,
    preferred_username: account.fairyname,
    name: account.name ?? undefined,
    picture: account.picture_url ?? undefined,
    updated_at: Math.floor(account.updated_at.getTime() / 1000),
  };
}
