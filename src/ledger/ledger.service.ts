import { createHash } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { CursorKey } from '../shared/cursor.ts';
import { ledgerErrors as errors } from './ledger.errors.ts';
import { createLedgerRepository, type LedgerRepository } from './ledger.repository.ts';
import type { LedgerTransaction, TransactionKind, Wallet, WalletKind } from './ledger.table.ts';

export const SIGNUP_GRANT = 25;
const SYSTEM = { signupGrants: 'signup_grants', purchases: 'purchases', environments: 'environments' } as const;

type Move = { wallet: Wallet; amount: number };
type Booking = Parameters<LedgerRepository['insertTransaction']>[0];
export type IdempotentResult<T> = { status: number; body: T; replayed: boolean };

/**
 * DUST moves only through `book`: one database transaction inserts the ledger transaction, moves
 * every wallet's cached balance with a guarded update (never below zero), and appends the entries;
 * the database checks at commit that they sum to zero. Wallets are updated in id order so two
 * opposite transfers cannot deadlock.
 */
export function createLedgerService(db: Db) {
  const read = createLedgerRepository(db);
  const inTransaction = <T>(work: (repo: LedgerRepository) => Promise<T>) =>
    db.transaction().execute((trx) => work(createLedgerRepository(trx)));

  async function book(repo: LedgerRepository, booking: Booking, moves: Move[]): Promise<LedgerTransaction | undefined> {
    const transaction = await repo.insertTransaction(booking);
    if (!transaction) return undefined;
    for (const move of [...moves].sort((a, b) => a.wallet.id.localeCompare(b.wallet.id))) {
      if (!(await repo.applyToBalance(move.wallet.id, move.amount))) throw errors.insufficientFunds();
    }
    await repo.insertEntries(
      moves.map((move) => ({ transaction_id: transaction.id, wallet_id: move.wallet.id, amount: move.amount })),
    );
    return transaction;
  }

  const personWallet = (repo: LedgerRepository, accountId: string) => repo.ensureWallet('person', accountId);

  return {
    /** Exactly once per account, however often it is called (the reference is the account id). */
    async grantSignup(accountId: string) {
      return inTransaction(async (repo) => {
        const [system, person] = [
          await repo.ensureWallet('system', SYSTEM.signupGrants),
          await personWallet(repo, accountId),
        ];
        return book(
          repo,
          {
            kind: 'signup_grant',
            reference: accountId,
            amount: SIGNUP_GRANT,
            account_id: accountId,
            description: 'Welcome DUST',
          },
          [
            { wallet: system, amount: -SIGNUP_GRANT },
            { wallet: person, amount: SIGNUP_GRANT },
          ],
        );
      });
    },

    /** Grants the sign-up DUST to every account that lacks it; returns how many were granted. */
    async grantMissingSignups(batch = 500): Promise<number> {
      let granted = 0;
      for (;;) {
        const missing = await read.accountsWithoutSignupGrant(batch);
        for (const { id } of missing) if (await this.grantSignup(id)) granted += 1;
        if (missing.length < batch) return granted;
      }
    },

    async balance(kind: WalletKind, ownerId: string): Promise<number> {
      return (await read.findWallet(kind, ownerId))?.balance ?? 0;
    },

    async history(
      kind: WalletKind,
      ownerId: string,
      filter: { kind?: TransactionKind | undefined },
      page: { cursor: CursorKey | undefined; limit: number },
    ) {
      const wallet = await read.findWallet(kind, ownerId);
      return wallet ? read.listEntries(wallet.id, filter, page.cursor, page.limit) : [];
    },

    /** An app takes DUST from a person. `allowance` when the person is not present (client credentials). */
    async charge(
      input: { accountId: string; clientId: string; amount: number; description: string; allowance: boolean },
      repo?: LedgerRepository,
    ) {
      const work = async (r: LedgerRepository) => {
        if (input.allowance) {
          const allowance = await r.lockAllowance(input.accountId, input.clientId);
          if (!allowance || allowance.remaining < input.amount) throw errors.allowanceExceeded();
          await r.setAllowance(input.accountId, input.clientId, allowance.remaining - input.amount);
        }
        const [person, app] = [await personWallet(r, input.accountId), await r.ensureWallet('app', input.clientId)];
        return (await book(
          r,
          {
            kind: 'charge',
            amount: input.amount,
            account_id: input.accountId,
            client_id: input.clientId,
            description: input.description,
          },
          [
            { wallet: person, amount: -input.amount },
            { wallet: app, amount: input.amount },
          ],
        ))!;
      };
      return repo ? work(repo) : inTransaction(work);
    },

    /** The charging app gives DUST back; refunds of one charge never add up to more than it. */
    async refund(input: { clientId: string; chargeId: string; amount?: number | undefined }, repo?: LedgerRepository) {
      const work = async (r: LedgerRepository) => {
        const charge = await r.lockTransaction(input.chargeId);
        if (!charge || charge.kind !== 'charge' || charge.client_id !== input.clientId) throw errors.chargeNotFound();
        const amount = input.amount ?? charge.amount - (await r.sumReversals(charge.id));
        if (amount <= 0 || (await r.sumReversals(charge.id)) + amount > charge.amount)
          throw errors.refundExceedsCharge();
        const [person, app] = [await personWallet(r, charge.account_id!), await r.ensureWallet('app', input.clientId)];
        return (await book(
          r,
          {
            kind: 'refund',
            amount,
            account_id: charge.account_id,
            client_id: input.clientId,
            reverses_id: charge.id,
            description: 'Refund',
          },
          [
            { wallet: app, amount: -amount },
            { wallet: person, amount },
          ],
        ))!;
      };
      return repo ? work(repo) : inTransaction(work);
    },

    /** Between a person and an organization they belong to; the caller checked the permission. */
    async transfer(
      input: { accountId: string; organizationId: string; direction: 'to_organization' | 'to_person'; amount: number },
      repo?: LedgerRepository,
    ) {
      const work = async (r: LedgerRepository) => {
        const [person, organization] = [
          await personWallet(r, input.accountId),
          await r.ensureWallet('organization', input.organizationId),
        ];
        const sign = input.direction === 'to_organization' ? 1 : -1;
        return (await book(
          r,
          {
            kind: 'transfer',
            amount: input.amount,
            account_id: input.accountId,
            organization_id: input.organizationId,
            description: input.direction,
          },
          [
            { wallet: person, amount: -sign * input.amount },
            { wallet: organization, amount: sign * input.amount },
          ],
        ))!;
      };
      return repo ? work(repo) : inTransaction(work);
    },

    /**
     * Environment time, from a person's or an organization's wallet to the platform. `reference`
     * names the hour being paid (one per environment, run and hour), so a repeat books nothing and
     * answers undefined; a wallet that cannot pay throws `insufficient_funds` and nothing is booked.
     */
    async chargeUsage(input: {
      wallet: { kind: 'person' | 'organization'; ownerId: string };
      amount: number;
      reference: string;
      description: string;
    }) {
      return inTransaction(async (repo) => {
        const [payer, platform] = [
          await repo.ensureWallet(input.wallet.kind, input.wallet.ownerId),
          await repo.ensureWallet('system', SYSTEM.environments),
        ];
        return book(
          repo,
          {
            kind: 'environment_usage',
            reference: input.reference,
            amount: input.amount,
            account_id: input.wallet.kind === 'person' ? input.wallet.ownerId : null,
            organization_id: input.wallet.kind === 'organization' ? input.wallet.ownerId : null,
            description: input.description,
          },
          [
            { wallet: payer, amount: -input.amount },
            { wallet: platform, amount: input.amount },
          ],
        );
      });
    },

    /** What environment usage booked under references starting with `prefix` adds up to. */
    usageTotal: (prefix: string) => read.sumByReferencePrefix('environment_usage', prefix),

    async setAllowance(accountId: string, clientId: string, amount: number) {
      await read.setAllowance(accountId, clientId, amount);
    },

    /** A paid purchase, booked once per external payment reference (a Stripe Checkout Session). */
    async purchase(input: { accountId: string; amount: number; reference: string; description: string }) {
      return inTransaction(async (repo) => {
        const [system, person] = [
          await repo.ensureWallet('system', SYSTEM.purchases),
          await personWallet(repo, input.accountId),
        ];
        return book(
          repo,
          {
            kind: 'purchase',
            reference: input.reference,
            amount: input.amount,
            account_id: input.accountId,
            description: input.description,
          },
          [
            { wallet: system, amount: -input.amount },
            { wallet: person, amount: input.amount },
          ],
        );
      });
    },

    /**
     * Takes back a refunded or disputed purchase up to `target` DUST in all (the whole purchase by
     * default; a partial refund names its share). Each target is booked once, so repeated or
     * reordered notices take nothing twice. DUST already spent cannot be taken back without going
     * below zero, so the reversal takes what is left and reports the shortfall.
     */
    async reversePurchase(
      reference: string,
      reason: string,
      target?: number,
    ): Promise<{ reversed: number; shortfall: number } | undefined> {
      return inTransaction(async (repo) => {
        const purchase = await repo.findByReference('purchase', reference);
        if (!purchase) return undefined;
        await repo.lockTransaction(purchase.id);
        const desired = Math.min(target ?? purchase.amount, purchase.amount);
        const outstanding = desired - (await repo.sumReversals(purchase.id));
        if (outstanding <= 0) return { reversed: 0, shortfall: 0 };
        // Locked, so the balance read here is the balance the reversal moves.
        const person = await repo.lockWallet((await personWallet(repo, purchase.account_id!)).id);
        const system = await repo.ensureWallet('system', SYSTEM.purchases);
        const reversed = Math.min(outstanding, person.balance);
        if (reversed > 0) {
          await book(
            repo,
            {
              kind: 'purchase_reversal',
              reference: `${reference}:${reason}:${desired}`,
              amount: reversed,
              account_id: purchase.account_id,
              reverses_id: purchase.id,
              description: reason,
            },
            [
              { wallet: person, amount: -reversed },
              { wallet: system, amount: reversed },
            ],
          );
        }
        return { reversed, shortfall: outstanding - reversed };
      });
    },

    /**
     * Runs a money-moving request at most once per key. The key is claimed in the same database
     * transaction as the booking, so a crash leaves neither, and a concurrent duplicate waits on the
     * key's row and then replays the stored answer. Errors are not stored: a refused request may be
     * retried with the same key once the reason is gone.
     */
    async idempotent<T extends object>(
      scope: string,
      key: string,
      request: unknown,
      work: (repo: LedgerRepository) => Promise<{ status: number; body: T }>,
    ): Promise<IdempotentResult<T>> {
      const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('base64url');
      return db.transaction().execute(async (trx) => {
        const claimed = await trx
          .insertInto('idempotency_keys')
          .values({ scope, key, request_hash: requestHash, status: 0, response: JSON.stringify(null) })
          .onConflict((c) => c.columns(['scope', 'key']).doNothing())
          .returning('key')
          .executeTakeFirst();
        if (!claimed) {
          const stored = await trx
            .selectFrom('idempotency_keys')
            .selectAll()
            .where('scope', '=', scope)
            .where('key', '=', key)
            .executeTakeFirstOrThrow();
          if (stored.request_hash !== requestHash) throw errors.idempotencyKeyReused();
          return { status: stored.status, body: stored.response as T, replayed: true };
        }
        const result = await work(createLedgerRepository(trx));
        await trx
          .updateTable('idempotency_keys')
          .set({ status: result.status, response: JSON.stringify(result.body) })
          .where('scope', '=', scope)
          .where('key', '=', key)
          .execute();
        return { ...result, replayed: false };
      });
    },

    /** Keys live at least 24 hours (the documented replay window); older ones are removed. */
    async expireIdempotencyKeys(olderThanHours = 48) {
      await db
        .deleteFrom('idempotency_keys')
        .where('created_at', '<', new Date(Date.now() - olderThanHours * 3600 * 1000))
        .execute();
    },

    /** The ledger's invariants, for `npm run cli -- ledger verify` and the tests. */
    async verify() {
      const [unbalanced, outOfBalance] = await Promise.all([read.unbalancedTransactions(), read.walletsOutOfBalance()]);
      return { unbalancedTransactions: unbalanced, walletsOutOfBalance: outOfBalance };
    },
  };
}

export type LedgerService = ReturnType<typeof createLedgerService>;
