import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type {
  LedgerTransaction,
  LedgerTransactionsTable,
  TransactionKind,
  Wallet,
  WalletKind,
} from './ledger.table.ts';
import { required } from '../shared/required.ts';

type NewTransaction = Omit<
  LedgerTransactionsTable,
  'id' | 'created_at' | 'reference' | 'account_id' | 'client_id' | 'organization_id' | 'description' | 'reverses_id'
> &
  Partial<
    Pick<
      LedgerTransactionsTable,
      'reference' | 'account_id' | 'client_id' | 'organization_id' | 'description' | 'reverses_id'
    >
  >;

/** SQL for DUST; works on the database or in the transaction a ledger operation opened. */
export function createLedgerRepository(db: Db) {
  return {
    /**
     * One query when the wallet exists (the common case), or, with `likelyNew` (a new account's
     * wallet), when it does not; a concurrent creator is tolerated.
     */
    async ensureWallet(kind: WalletKind, ownerId: string, likelyNew = false): Promise<Wallet> {
      const find = () =>
        db
          .selectFrom('wallets')
          .selectAll()
          .where('kind', '=', kind)
          .where('owner_id', '=', ownerId)
          .executeTakeFirst();
      const create = () =>
        db
          .insertInto('wallets')
          // A system wallet's balance is read from its entries (migration 20261209-0100).
          .values({ id: randomUUID(), kind, owner_id: ownerId, ...(kind === 'system' ? { balance: null } : {}) })
          .onConflict((c) => c.doNothing())
          .returningAll()
          .executeTakeFirst();
      const first = await (likelyNew ? create() : find());
      if (first) return first;
      return (await (likelyNew ? find() : create())) ?? required(await find(), `the ${kind} wallet of ${ownerId}`);
    },

    lockWallet(id: string) {
      return db.selectFrom('wallets').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
    },

    findWallet(kind: WalletKind, ownerId: string) {
      return db
        .selectFrom('wallets')
        .selectAll()
        .where('kind', '=', kind)
        .where('owner_id', '=', ownerId)
        .executeTakeFirst();
    },

    /** Undefined when this (kind, reference) was booked before: external facts are booked once. */
    insertTransaction(row: NewTransaction) {
      return db
        .insertInto('ledger_transactions')
        .values({ id: randomUUID(), ...row })
        .onConflict((c) => c.columns(['kind', 'reference']).where('reference', 'is not', null).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    findByReference(kind: TransactionKind, reference: string) {
      return db
        .selectFrom('ledger_transactions')
        .selectAll()
        .where('kind', '=', kind)
        .where('reference', '=', reference)
        .executeTakeFirst();
    },

    async sumByReferencePrefix(kind: TransactionKind, prefix: string): Promise<number> {
      const row = await db
        .selectFrom('ledger_transactions')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), sql<number>`0`).as('total'))
        .where('kind', '=', kind)
        .where(sql<boolean>`starts_with(reference, ${prefix})`)
        .executeTakeFirstOrThrow();
      return Number(row.total);
    },

    /** Serializes refunds of one charge. */
    lockTransaction(id: string) {
      return db.selectFrom('ledger_transactions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    },

    async sumReversals(id: string): Promise<number> {
      const row = await db
        .selectFrom('ledger_transactions')
        .select(sql<number>`coalesce(sum(amount), 0)::int`.as('total'))
        .where('reverses_id', '=', id)
        .executeTakeFirstOrThrow();
      return Number(row.total);
    },

    /**
     * Moves the cached balance in the same statement that checks it, so two concurrent debits cannot
     * both pass a read-then-write check. Undefined when the wallet would go below zero, or is a system
     * wallet (which has no cached balance to move).
     */
    applyToBalance(walletId: string, amount: number) {
      return db
        .updateTable('wallets')
        .set({ balance: sql`balance + ${amount}` } as never)
        .where('id', '=', walletId)
        .where(sql<boolean>`balance + ${amount} >= 0`)
        .returning('balance')
        .executeTakeFirst();
    },

    /** A system wallet's balance: the sum of its entries. */
    async sumEntries(walletId: string): Promise<number> {
      const row = await db
        .selectFrom('ledger_entries')
        .select(sql<number>`coalesce(sum(amount), 0)::int`.as('total'))
        .where('wallet_id', '=', walletId)
        .executeTakeFirstOrThrow();
      return Number(row.total);
    },

    async insertEntries(rows: { transaction_id: string; wallet_id: string; amount: number }[]) {
      await db
        .insertInto('ledger_entries')
        .values(rows.map((row) => ({ id: randomUUID(), ...row })))
        .execute();
    },

    listEntries(
      walletId: string,
      filter: { kind?: TransactionKind | undefined },
      cursor: CursorKey | undefined,
      limit: number,
    ) {
      let query = db
        .selectFrom('ledger_entries')
        .innerJoin('ledger_transactions', 'ledger_transactions.id', 'ledger_entries.transaction_id')
        .select([
          'ledger_entries.id',
          'ledger_entries.amount',
          'ledger_entries.created_at',
          'ledger_transactions.id as transaction_id',
          'ledger_transactions.kind',
          'ledger_transactions.description',
          'ledger_transactions.client_id',
          'ledger_transactions.organization_id',
          'ledger_transactions.reverses_id',
        ])
        .where('ledger_entries.wallet_id', '=', walletId);
      if (filter.kind) query = query.where('ledger_transactions.kind', '=', filter.kind);
      // Newest first: a history is read from the top.
      if (cursor)
        query = query.where(
          sql<boolean>`(ledger_entries.created_at, ledger_entries.id) < (${new Date(cursor.at)}, ${cursor.id})`,
        );
      return query
        .orderBy('ledger_entries.created_at', 'desc')
        .orderBy('ledger_entries.id', 'desc')
        .limit(limit + 1)
        .execute();
    },

    lockAllowance(accountId: string, clientId: string) {
      return db
        .selectFrom('dust_allowances')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('client_id', '=', clientId)
        .forUpdate()
        .executeTakeFirst();
    },

    async setAllowance(accountId: string, clientId: string, remaining: number) {
      await db
        .insertInto('dust_allowances')
        .values({ account_id: accountId, client_id: clientId, remaining })
        .onConflict((c) => c.columns(['account_id', 'client_id']).doUpdateSet({ remaining, updated_at: new Date() }))
        .execute();
    },

    /** False when the key was claimed before (or is being claimed: this waits for that transaction). */
    async claimIdempotencyKey(scope: string, key: string, requestHash: string): Promise<boolean> {
      const claimed = await db
        .insertInto('idempotency_keys')
        .values({ scope, key, request_hash: requestHash, response: JSON.stringify(null) })
        .onConflict((c) => c.columns(['scope', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      return claimed !== undefined;
    },

    findIdempotencyKey(scope: string, key: string) {
      return db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
    },

    async storeIdempotentResult(scope: string, key: string, transaction: LedgerTransaction) {
      await db
        .updateTable('idempotency_keys')
        .set({ response: JSON.stringify(transaction) })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .execute();
    },

    async deleteIdempotencyKeysBefore(before: Date) {
      await db.deleteFrom('idempotency_keys').where('created_at', '<', before).execute();
    },

    /** Accounts that never got their sign-up DUST (created before the ledger, or interrupted). */
    accountsWithoutSignupGrant(limit: number) {
      return db
        .selectFrom('accounts')
        .select('accounts.id')
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('ledger_transactions')
                .select('id')
                .where('kind', '=', 'signup_grant')
                .whereRef('reference', '=', 'accounts.id'),
            ),
          ),
        )
        .limit(limit)
        .execute();
    },

    /** Transactions whose entries do not sum to zero (the database refuses them; this proves it). */
    unbalancedTransactions() {
      return db
        .selectFrom('ledger_entries')
        .select(['transaction_id', sql<number>`sum(amount)::int`.as('sum')])
        .groupBy('transaction_id')
        .having(sql`sum(amount)`, '<>', 0)
        .execute();
    },

    /** Wallets whose cached balance differs from the sum of their entries (system wallets cache none). */
    walletsOutOfBalance() {
      return db
        .selectFrom('wallets')
        .leftJoin('ledger_entries', 'ledger_entries.wallet_id', 'wallets.id')
        .where('wallets.balance', 'is not', null)
        .select([
          'wallets.id',
          'wallets.balance',
          sql<number>`coalesce(sum(ledger_entries.amount), 0)::int`.as('entries'),
        ])
        .groupBy(['wallets.id', 'wallets.balance'])
        .having(sql`coalesce(sum(ledger_entries.amount), 0)`, '<>', sql.ref('wallets.balance'))
        .execute();
    },
  };
}

export type LedgerRepository = ReturnType<typeof createLedgerRepository>;
