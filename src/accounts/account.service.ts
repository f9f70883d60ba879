import { randomUUID } from 'node:crypto';
import type { AccountRepository, IdentifierUpdate } from './account.repository.ts';
import { hasSecondFactor, type FactorSummaryRepository } from './factor-summary.repository.ts';
import type { Account } from './account.table.ts';
import { generateFairyname } from './fairyname.ts';
import type { Profile } from './profile.ts';

const FAIRYNAME_ATTEMPTS = 8;

export function createAccountService(
  accounts: AccountRepository,
  factors: FactorSummaryRepository,
  options: { platformOwnerEmail?: string | undefined } = {},
) {
  return {
    findById: (id: string) => accounts.findById(id),

    factorSummary: (id: string) => factors.summarize(id),

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
    updateProfile: (id: string, profile: Profile) =>
      accounts.updateProfile(id, { name: profile.name, picture_url: profile.pictureUrl }),

    /** A newly verified email becomes the one the account signs in with; `taken` when another account has it. */
    changeEmail: (id: string, email: string): Promise<IdentifierUpdate> => accounts.updateEmail(id, email),

    /** A newly verified phone number (E.164) becomes the one the account signs in with; `taken` when another account has it. */
    changePhone: (id: string, phoneNumber: string): Promise<IdentifierUpdate> =>
      accounts.updatePhoneNumber(id, phoneNumber),

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
