import { createHash } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { Actor, EventDraft } from '../events/event-catalog.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { CursorKey } from '../shared/cursor.ts';
import { required } from '../shared/required.ts';
import { ledgerErrors as errors } from './ledger.errors.ts';
import { createLedgerRepository, type LedgerRepository } from './ledger.repository.ts';
import type { LedgerTransaction, TransactionKind, Wallet, WalletKind } from './ledger.table.ts';

export const SIGNUP_GRANT = 25;
const SYSTEM = { signupGrants: 'signup_grants', purchases: 'purchases', environments: 'environments' } as const;

type Move = { wallet: Wallet; amount: number };
/** A ledger transaction's repository and the recorder of its event, both on its database transaction. */
type Unit = { repo: LedgerRepository; record(transaction: LedgerTransaction, actor: Actor): Promise<void> };
type Booking = Parameters<LedgerRepository['insertTransaction']>[0];

/** Who moves DUST: an app, for a person when the token is theirs, on its own with client credentials. */
export type LedgerActor = { clientId: string; accountId: string | undefined };
/** A money-moving request's idempotency key and what was asked, so a replay is told from a reuse. */
export type Once = { key: string; request: unknown };
export type Booked = { transaction: LedgerTransaction; replayed: boolean };

export type LedgerDeps = {
  db: Db;
  /** Every booking's event (dust.credited, charged, refunded, transferred) commits with it. */
  events: EventRecorder;
  /** The app's registration, for whether it may charge a person who is not present. */
  clients: { find(clientId: string): Promise<{ first_party?: boolean; organization_id?: string } | undefined> };
  organizations: {
    /** Throws unless the person may do `permission` in the organization. */
    authorize(
      accountId: string,
      organizationId: string,
      permission: 'billing:read' | 'billing:manage' | 'organization:read',
      what: string,
    ): Promise<unknown>;
    /** Throws unless the organization is approved (active). */
    requireActive(organizationId: string): Promise<unknown>;
  };
  /** Told of each booked transaction once its database transaction has committed (the metrics count DUST moved). */
  onBooked?: ((transaction: LedgerTransaction) => void) | undefined;
};

const SYSTEM_ACTOR: Actor = { type: 'system' };
/** The person through the app when the token is theirs, else the app on its own. */
const byActor = (actor: LedgerActor): Actor =>
  actor.accountId
    ? { type: 'account', id: actor.accountId, client_id: actor.clientId }
    : { type: 'client', id: actor.clientId };

/**
 * The event a booking publishes. Its subject is the person whose DUST moved (the organization for
 * environment time an organization pays), so one person's movements reach consumers in order.
 */
function transactionEvent(transaction: LedgerTransaction, actor: Actor): EventDraft {
  const common = {
    transaction_id: transaction.id,
    kind: transaction.kind,
    amount: transaction.amount,
    account_id: transaction.account_id,
    client_id: transaction.client_id,
    description: transaction.description,
  };
  const subject = transaction.account_id
    ? { type: 'account', id: transaction.account_id }
    : { type: 'organization', id: required(transaction.organization_id, 'the paying organization') };
  const base = { actor, subject, organizationId: transaction.organization_id };
  switch (transaction.kind) {
    case 'signup_grant':
    case 'purchase':
      return { ...base, type: 'dust.credited', data: common };
    case 'refund':
      return { ...base, type: 'dust.refunded', data: { ...common, reverses_id: transaction.reverses_id } };
    case 'transfer':
      return {
        ...base,
        type: 'dust.transferred',
        data: { ...common, direction: transaction.description === 'to_person' ? 'to_person' : 'to_organization' },
      };
    default:
      // charge, environment_usage, purchase_reversal: DUST taken from the subject.
      return { ...base, type: 'dust.charged', data: common };
  }
}

/**
 * DUST moves only through `book`: one database transaction inserts the ledger transaction, moves
 * every wallet's cached balance with a guarded update (never below zero), and appends the entries;
 * the database checks at commit that they sum to zero. Wallets are updated in id order so two
 * opposite transfers cannot deadlock. System wallets, which issue DUST and may go negative, cache no
 * balance: one row that every sign-up (or every metered hour) updated would make them take turns,
 * each holding its lock until its commit. Who may move whose DUST is decided here too, so the money
 * path is the same with or without HTTP.
 */
export function createLedgerService(deps: LedgerDeps) {
  const { db } = deps;
  const read = createLedgerRepository(db);
  // System wallets are never deleted, so each is looked up (or created) once, on its own commit and
  // before the booking's transaction opens: a wallet created in a booking that rolls back must not be
  // remembered, and a booking must not wait for a second connection while holding one.
  const systemWallets = new Map<string, Promise<Wallet>>();
  const systemWallet = (name: string) => {
    let wallet = systemWallets.get(name);
    if (!wallet) {
      wallet = read.ensureWallet('system', name);
      wallet.catch(() => systemWallets.delete(name));
      systemWallets.set(name, wallet);
    }
    return wallet;
  };
  // Each unit of work publishes its bookings' events in its own transaction, and reports them to the
  // metrics only after the commit: a rollback moved nothing.
  const unitOn = (trx: Db, booked: LedgerTransaction[]): Unit => ({
    repo: createLedgerRepository(trx),
    record: async (transaction, actor) => {
      booked.push(transaction);
      await deps.events.record(trx, transactionEvent(transaction, actor));
    },
  });
  const reportBooked = (booked: LedgerTransaction[]) => {
    if (deps.onBooked) for (const transaction of booked) deps.onBooked(transaction);
  };
  const inTransaction = async <T>(work: (unit: Unit) => Promise<T>) => {
    const booked: LedgerTransaction[] = [];
    const result = await db.transaction().execute((trx) => work(unitOn(trx, booked)));
    reportBooked(booked);
    return result;
  };

  /** First-party apps and apps of approved organizations may charge a person who is not present. */
  async function isApprovedApp(clientId: string) {
    const client = await deps.clients.find(clientId);
    if (client?.first_party) return true;
    if (!client?.organization_id) return false;
    return deps.organizations.requireActive(client.organization_id).then(
      () => true,
      () => false,
    );
  }

  /**
   * Books `work` at most once per idempotency key (scoped to the app and the person, or the app
   * alone). The key is claimed in the same database transaction as the booking, so a crash leaves
   * neither, and a concurrent duplicate waits on the key's row and then replays the stored
   * transaction. Refusals roll the claim back: the same key may be retried once the reason is gone.
   */
  async function once(
    actor: LedgerActor,
    request: Once,
    work: (unit: Unit) => Promise<LedgerTransaction>,
  ): Promise<Booked> {
    const scope = `${actor.clientId}:${actor.accountId ?? actor.clientId}`;
    const requestHash = createHash('sha256').update(JSON.stringify(request.request)).digest('base64url');
    return inTransaction(async (unit) => {
      const { repo } = unit;
      if (!(await repo.claimIdempotencyKey(scope, request.key, requestHash))) {
        const stored = await repo.findIdempotencyKey(scope, request.key);
        if (stored.request_hash !== requestHash) throw errors.idempotencyKeyReused();
        const transaction = stored.response as unknown as LedgerTransaction & { created_at: string };
        return { transaction: { ...transaction, created_at: new Date(transaction.created_at) }, replayed: true };
      }
      const transaction = await work(unit);
      await repo.storeIdempotentResult(scope, request.key, transaction);
      return { transaction, replayed: false };
    });
  }

  async function book(
    unit: Unit,
    booking: Booking,
    moves: Move[],
    actor: Actor,
  ): Promise<LedgerTransaction | undefined> {
    const { repo } = unit;
    const transaction = await repo.insertTransaction(booking);
    if (!transaction) return undefined;
    for (const move of [...moves].sort((a, b) => a.wallet.id.localeCompare(b.wallet.id))) {
      if (move.wallet.kind === 'system') continue;
      if (!(await repo.applyToBalance(move.wallet.id, move.amount))) throw errors.insufficientFunds();
    }
    await repo.insertEntries(
      moves.map((move) => ({ transaction_id: transaction.id, wallet_id: move.wallet.id, amount: move.amount })),
    );
    await unit.record(transaction, actor);
    return transaction;
  }

  /** Bookings without an external reference always insert. */
  const bookNew = async (unit: Unit, booking: Booking, moves: Move[], actor: Actor) =>
    required(await book(unit, booking, moves, actor), 'the booked transaction');

  const personWallet = (repo: LedgerRepository, accountId: string) => repo.ensureWallet('person', accountId);

  const bookSignup = async (unit: Unit, system: Wallet, accountId: string) => {
    // Called for a new account, whose wallet does not exist yet.
    const person = await unit.repo.ensureWallet('person', accountId, true);
    return book(
      unit,
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
      SYSTEM_ACTOR,
    );
  };

  return {
    /** Exactly once per account, however often it is called (the reference is the account id). */
    async grantSignup(accountId: string) {
      const system = await systemWallet(SYSTEM.signupGrants);
      return inTransaction((unit) => bookSignup(unit, system, accountId));
    },

    /**
     * The same grant inside the transaction that creates the account (accounts' NewAccountWork), so
     * the account, its DUST and their events commit at once. Still exactly once: a later grantSignup
     * for the account finds the reference taken.
     */
    signupInAccountTransaction: {
      prepare: () => systemWallet(SYSTEM.signupGrants),
      async book(transaction: Db, accountId: string) {
        // Looked up by `prepare` before the transaction opened, so this is never a second connection.
        const system = await systemWallet(SYSTEM.signupGrants);
        const booked: LedgerTransaction[] = [];
        await bookSignup(unitOn(transaction, booked), system, accountId);
        return () => reportBooked(booked);
      },
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
      const wallet = await read.findWallet(kind, ownerId);
      if (!wallet) return 0;
      return wallet.balance ?? read.sumEntries(wallet.id);
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

    /**
     * Whose wallet a person reads: their own, or an organization's where they may read its billing.
     */
    async walletOf(accountId: string, organizationId: string | undefined) {
      if (!organizationId) return { kind: 'person' as const, owner: accountId };
      await deps.organizations.authorize(accountId, organizationId, 'billing:read', 'do that with its DUST');
      return { kind: 'organization' as const, owner: organizationId };
    },

    /**
     * An app takes DUST from a person. With the person's token it charges that person; without one
     * (client credentials) only an approved app charges, from `accountId`, within the allowance the
     * person set for it.
     */
    async charge(
      actor: LedgerActor,
      input: { accountId?: string | undefined; amount: number; description: string },
      request: Once,
    ): Promise<Booked> {
      const present = actor.accountId !== undefined;
      if (present && input.accountId && input.accountId !== actor.accountId) throw errors.otherPerson();
      const accountId = actor.accountId ?? input.accountId;
      if (!accountId) throw errors.accountRequired();
      if (!present && !(await isApprovedApp(actor.clientId))) throw errors.appNotApproved();
      return once(actor, request, async (unit) => {
        const { repo } = unit;
        if (!present) {
          const allowance = await repo.lockAllowance(accountId, actor.clientId);
          if (!allowance || allowance.remaining < input.amount) throw errors.allowanceExceeded();
          await repo.setAllowance(accountId, actor.clientId, allowance.remaining - input.amount);
        }
        const [person, app] = [await personWallet(repo, accountId), await repo.ensureWallet('app', actor.clientId)];
        return bookNew(
          unit,
          {
            kind: 'charge',
            amount: input.amount,
            account_id: accountId,
            client_id: actor.clientId,
            description: input.description,
          },
          [
            { wallet: person, amount: -input.amount },
            { wallet: app, amount: input.amount },
          ],
          byActor(actor),
        );
      });
    },

    /**
     * The charging app gives DUST back, never more than it charged. Only the app itself refunds, with
     * a token of its own (client credentials): a person's token, even the charged person's through
     * that app, could otherwise undo charges the app never meant to return (a public client's tokens
     * are in the person's hands).
     */
    async refund(actor: LedgerActor, input: { chargeId: string; amount?: number | undefined }, request: Once) {
      if (actor.accountId !== undefined) throw errors.appTokenRequired();
      return once(actor, request, async (unit) => {
        const { repo } = unit;
        const charge = await repo.lockTransaction(input.chargeId);
        if (charge?.kind !== 'charge' || charge.client_id !== actor.clientId) throw errors.chargeNotFound();
        const refunded = await repo.sumReversals(charge.id);
        const amount = input.amount ?? charge.amount - refunded;
        if (amount <= 0 || refunded + amount > charge.amount) throw errors.refundExceedsCharge();
        const [person, app] = [
          await personWallet(repo, required(charge.account_id, 'the charged account')),
          await repo.ensureWallet('app', actor.clientId),
        ];
        return bookNew(
          unit,
          {
            kind: 'refund',
            amount,
            account_id: charge.account_id,
            client_id: actor.clientId,
            reverses_id: charge.id,
            description: 'Refund',
          },
          [
            { wallet: app, amount: -amount },
            { wallet: person, amount },
          ],
          byActor(actor),
        );
      });
    },

    /**
     * Between a person and an organization: any member may give, owners and billing members may take.
     */
    async transfer(
      actor: LedgerActor,
      input: { organizationId: string; direction: 'to_organization' | 'to_person'; amount: number },
      request: Once,
    ): Promise<Booked> {
      const accountId = actor.accountId;
      if (!accountId) throw errors.personRequired();
      await deps.organizations.authorize(
        accountId,
        input.organizationId,
        input.direction === 'to_person' ? 'billing:manage' : 'organization:read',
        'do that with its DUST',
      );
      return once(actor, request, async (unit) => {
        const { repo } = unit;
        const [person, organization] = [
          await personWallet(repo, accountId),
          await repo.ensureWallet('organization', input.organizationId),
        ];
        const sign = input.direction === 'to_organization' ? 1 : -1;
        return bookNew(
          unit,
          {
            kind: 'transfer',
            amount: input.amount,
            account_id: accountId,
            organization_id: input.organizationId,
            description: input.direction,
          },
          [
            { wallet: person, amount: -sign * input.amount },
            { wallet: organization, amount: sign * input.amount },
          ],
          byActor(actor),
        );
      });
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
      const platform = await systemWallet(SYSTEM.environments);
      return inTransaction(async (unit) => {
        const { repo } = unit;
        const payer = await repo.ensureWallet(input.wallet.kind, input.wallet.ownerId);
        return book(
          unit,
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
          SYSTEM_ACTOR,
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
      const system = await systemWallet(SYSTEM.purchases);
      return inTransaction(async (unit) => {
        const { repo } = unit;
        const person = await personWallet(repo, input.accountId);
        return book(
          unit,
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
          SYSTEM_ACTOR,
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
      const system = await systemWallet(SYSTEM.purchases);
      return inTransaction(async (unit) => {
        const { repo } = unit;
        const purchase = await repo.findByReference('purchase', reference);
        if (!purchase) return undefined;
        await repo.lockTransaction(purchase.id);
        const desired = Math.min(target ?? purchase.amount, purchase.amount);
        const outstanding = desired - (await repo.sumReversals(purchase.id));
        if (outstanding <= 0) return { reversed: 0, shortfall: 0 };
        // Locked, so the balance read here is the balance the reversal moves.
        const person = await repo.lockWallet(
          (await personWallet(repo, required(purchase.account_id, 'the purchasing account'))).id,
        );
        const reversed = Math.min(outstanding, required(person.balance, "a person wallet's balance"));
        if (reversed > 0) {
          await book(
            unit,
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
            SYSTEM_ACTOR,
          );
        }
        return { reversed, shortfall: outstanding - reversed };
      });
    },

    /** Keys live at least 24 hours (the documented replay window); older ones are removed. */
    async expireIdempotencyKeys(olderThanHours = 48) {
      await read.deleteIdempotencyKeysBefore(new Date(Date.now() - olderThanHours * 3600 * 1000));
    },

    /** The ledger's invariants, for `npm run cli -- ledger verify` and the tests. */
    async verify() {
      const [unbalanced, outOfBalance] = await Promise.all([read.unbalancedTransactions(), read.walletsOutOfBalance()]);
      return { unbalancedTransactions: unbalanced, walletsOutOfBalance: outOfBalance };
    },
  };
}

export type LedgerService = ReturnType<typeof createLedgerService>;
