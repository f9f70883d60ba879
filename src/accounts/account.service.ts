import { randomUUID } from 'node:crypto';
import type { AccountRepository, IdentifierUpdate } from './account.repository.ts';
import { hasSecondFactor, type FactorSummaryRepository } from './factor-summary.repository.ts';
import type { Account, AccountStatus } from './account.table.ts';
import { generateFairyname } from './fairyname.ts';
import type { Profile } from './profile.ts';
import { type Text, text } from '../i18n/translator.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import type { EventDraft } from '../events/event-catalog.ts';
import type { Db } from '../db/database.ts';

/** Runs `work` in one database transaction, with the account SQL and the event recorder bound to it. */
export type AccountUnitOfWork = <T>(
  work: (accounts: AccountRepository, emit: (draft: EventDraft) => Promise<void>, transaction: Db) => Promise<T>,
) => Promise<T>;

/**
 * What every new account gets in the transaction that creates it (the sign-up DUST, src/ledger/):
 * `prepare` runs before the transaction opens, `book` inside it, and what `book` returns once it
 * has committed. One commit for the account, its grant and their events, instead of one after the other.
 */
export type NewAccountWork = {
  prepare(): Promise<unknown>;
  book(transaction: Db, accountId: string): Promise<() => void>;
};

/**
 * The caller's own writes for a new account, run in the transaction that creates it (after the
 * account's): the sign-in pages' `sign_in` audit row, which then needs no commit of its own.
 */
export type WithNewAccount = (transaction: Db, account: Account) => Promise<void>;

const created = (account: Account, method: string | null): EventDraft => ({
  type: 'account.created',
  actor: { type: 'account', id: account.id },
  subject: { type: 'account', id: account.id },
  data: { fairyname: account.fairyname, method },
});

/** The person changed their own account on their pages (no app acts for them there). */
const updated = (id: string, field: 'profile' | 'email' | 'phone_number'): EventDraft => ({
  type: 'account.updated',
  actor: { type: 'account', id },
  subject: { type: 'account', id },
  data: { fields: [field] },
});

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
  options: {
    platformOwnerEmail?: string | undefined;
    clock?: Clock;
    /** A new account and its account.created event commit together, as do a change and its account.updated. */
    transaction: AccountUnitOfWork;
    /** Joins the transaction of every new account. */
    newAccount?: NewAccountWork | undefined;
  },
) {
  const clock = options.clock ?? systemClock;
  /** Inserts with `insert`, recording account.created and doing `newAccount` in the same transaction; undefined on a conflict. */
  const insertAccount = async (
    insert: (repo: AccountRepository) => Promise<Account | undefined>,
    method: string | null,
    withNewAccount?: WithNewAccount,
  ) => {
    const { newAccount } = options;
    await newAccount?.prepare();
    let committed: (() => void) | undefined;
    const inserted = await options.transaction(async (repo, emit, transaction) => {
      const row = await insert(repo);
      if (!row) return undefined;
      await emit(created(row, method));
      committed = await newAccount?.book(transaction, row.id);
      await withNewAccount?.(transaction, row);
      return row;
    });
    committed?.();
    return inserted;
  };
  /**
   * A `taken` address is a unique violation, which leaves the transaction aborted: it is rolled back
   * (by throwing out of it), never committed, and answered as `taken` afterwards.
   */
  const changeIdentifier = async (
    id: string,
    field: 'email' | 'phone_number',
    update: (repo: AccountRepository) => Promise<IdentifierUpdate>,
  ): Promise<IdentifierUpdate> => {
    const taken = new Error('address taken');
    try {
      return await options.transaction(async (repo, emit) => {
        const result = await update(repo);
        if (result.status === 'taken') throw taken;
        if (result.status === 'updated') await emit(updated(id, field));
        return result;
      });
    } catch (error) {
      if (error === taken) return { status: 'taken' };
      throw error;
    }
  };
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

    /**
     * The platform owner is named by PLATFORM_OWNER_EMAIL (a verified address) or set with the CLI;
     * a suspended or deleted account is nobody's platform owner.
     */
    async isPlatformOwner(id: string): Promise<boolean> {
      const account = await accounts.findById(id);
      if (account?.status !== 'active') return false;
      return (
        account.platform_owner ||
        (!!options.platformOwnerEmail && account.email_verified && account.email === options.platformOwnerEmail)
      );
    },

    /**
     * Moves the account between statuses (see account-lifecycle/); undefined when it is not in one
     * of `from`. This instance forgets its cached claims at once; others within CLAIMS_CACHE_SECONDS.
     */
    changeStatus: async (id: string, change: { to: AccountStatus; reason: string | null; from: AccountStatus[] }) =>
      forget(id, await accounts.updateStatus(id, change)),

    /**
     * The platform console's search: an account id, or the start of an email address, phone number
     * (spaces, dashes and brackets ignored) or fairyname. At most `limit`, newest first.
     */
    search(typed: string, limit = 50): Promise<Account[]> {
      const term = typed.trim().slice(0, 320);
      if (!term) return Promise.resolve([]);
      const digits = term.replace(/[\s().-]/g, '');
      const phonePrefix = /^\+?\d{3,}$/.test(digits) ? (digits.startsWith('+') ? digits : `+${digits}`) : undefined;
      return accounts.search({ id: term, prefix: term, phonePrefix }, limit);
    },

    /** Drops the cached claims of an account changed outside this service (its erasure). */
    forgetClaims: (id: string) => void forget(id, undefined),

    /** False when no account has that email. */
    setPlatformOwner: (email: string, owner: boolean) => accounts.updatePlatformOwner(email, owner),

    /**
     * Builders register OAuth clients of their own. The person sets the flag on their developer page,
     * or the platform owner (API) or an operator (CLI) sets it for them; undefined when no account matches.
     */
    async setBuilder(where: { id: string } | { email: string }, builder: boolean): Promise<Account | undefined> {
      const account = await accounts.updateBuilder(where, builder);
      if (account) claimsCache.delete(account.id);
      return account;
    },

    /** A verified email signs in to its account, creating the account (with `withNewAccount`) on first sign-in. */
    async signInWithVerifiedEmail(
      email: string,
      withNewAccount?: WithNewAccount,
    ): Promise<{ account: Account; created: boolean }> {
      for (let attempt = 0; attempt < FAIRYNAME_ATTEMPTS; attempt += 1) {
        const existing = await accounts.findByEmail(email);
        if (existing) return { account: existing, created: false };
        const inserted = await insertAccount(
          (repo) => repo.insertWithEmail({ id: randomUUID(), email, fairyname: generateFairyname() }),
          'email',
          withNewAccount,
        );
        if (inserted) return { account: inserted, created: true };
        // A conflict is either a concurrent sign-up with this email (found on the next pass) or a
        // fairyname collision (a fresh name on the next pass).
      }
      throw new Error('could not allocate a unique fairyname');
    },

    /** A verified phone number (E.164) signs in to its account, creating the account (with `withNewAccount`) on first sign-in. */
    async signInWithVerifiedPhone(
      phoneNumber: string,
      withNewAccount?: WithNewAccount,
    ): Promise<{ account: Account; created: boolean }> {
      for (let attempt = 0; attempt < FAIRYNAME_ATTEMPTS; attempt += 1) {
        const existing = await accounts.findByPhoneNumber(phoneNumber);
        if (existing) return { account: existing, created: false };
        const inserted = await insertAccount(
          (repo) =>
            repo.insertWithPhoneNumber({ id: randomUUID(), phone_number: phoneNumber, fairyname: generateFairyname() }),
          'sms',
          withNewAccount,
        );
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
        const inserted = await insertAccount(
          (repo) => repo.insertWithoutAddress({ id: randomUUID(), fairyname: generateFairyname() }),
          'federated',
        );
        if (inserted) return inserted;
      }
      throw new Error('could not allocate a unique fairyname');
    },

    /** False when the account no longer exists. */
    updateProfile: async (id: string, profile: Profile) =>
      forget(
        id,
        await options.transaction(async (repo, emit) => {
          const found = await repo.updateProfile(id, { name: profile.name, picture_url: profile.pictureUrl });
          if (found) await emit(updated(id, 'profile'));
          return found;
        }),
      ),

    /** A newly verified email becomes the one the account signs in with; `taken` when another account has it. */
    changeEmail: async (id: string, email: string): Promise<IdentifierUpdate> =>
      forget(id, await changeIdentifier(id, 'email', (repo) => repo.updateEmail(id, email))),

    /** A newly verified phone number (E.164) becomes the one the account signs in with; `taken` when another account has it. */
    changePhone: async (id: string, phoneNumber: string): Promise<IdentifierUpdate> =>
      forget(id, await changeIdentifier(id, 'phone_number', (repo) => repo.updatePhoneNumber(id, phoneNumber))),

    /** The account an email address or phone number signs in to, if any (to file a failed attempt under it). */
    findBySignInAddress(channel: 'email' | 'sms', address: string): Promise<Account | undefined> {
      return channel === 'email' ? accounts.findByEmail(address) : accounts.findByPhoneNumber(address);
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;

/** What the sign-in pages tell a person whose account may not sign in; undefined when it may. */
export function signInRefusal(account: Pick<Account, 'status'>): Text | undefined {
  if (account.status === 'suspended') return text('errors.cannotSignIn.suspended');
  if (account.status === 'deleted') return text('errors.cannotSignIn.deleted');
  return undefined;
}

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
    // The `builder` scope's claim: whether the person registers apps of their own (src/builders/).
    builder: account.builder,
  };
}
