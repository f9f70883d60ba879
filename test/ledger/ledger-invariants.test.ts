import { randomInt, randomUUID } from 'node:crypto';
import test from 'ava';
import { sql } from 'kysely';
import { createEventRecorder } from '../../src/events/event-recorder.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createLedgerService } from '../../src/ledger/ledger.service.ts';
import { ApiError } from '../../src/shared/api-error.ts';
import { startTestServer } from '../helpers/server.ts';

const PEOPLE = 12;
const APPS = ['app-a', 'app-b', 'app-c'];
const OPERATIONS = 3000;
const CONCURRENCY = 24;

test('thousands of random charges, refunds, transfers and grants in parallel keep the ledger exact', async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  // Every app approved and every person allowed: this test is about the bookings, not the policy.
  const ledger = createLedgerService({
    db,
    events: createEventRecorder(systemClock),
    clients: { find: async () => ({ first_party: true }) },
    organizations: { authorize: async () => {}, requireActive: async () => {} },
  });
  const people = Array.from({ length: PEOPLE }, (_, i) => ({
    id: `person-${i}`,
    email: `p${i}@example.com`,
    fairyname: `prop_person_${String(i).padStart(4, '0')}`,
  }));
  await db.insertInto('accounts').values(people).execute();
  const organizations = ['org-1', 'org-2'];
  const charges: string[] = [];
  let refused = 0;

  const pick = <T>(items: T[]) => items[randomInt(items.length)]!;
  const operation = async () => {
    const person = pick(people).id;
    switch (randomInt(5)) {
      case 0:
        return ledger.grantSignup(person);
      case 1:
      case 2: {
        const booked = await ledger.charge(
          { clientId: pick(APPS), accountId: person },
          { amount: 1 + randomInt(8), description: 'random' },
          { key: randomUUID(), request: {} },
        );
        charges.push(booked.transaction.id);
        return booked;
      }
      case 3:
        return charges.length
          ? ledger.refund(
              { clientId: pick(APPS), accountId: undefined },
              { chargeId: pick(charges), amount: 1 + randomInt(5) },
              { key: randomUUID(), request: {} },
            )
          : undefined;
      default:
        return ledger.transfer(
          { clientId: 'console', accountId: person },
          {
            organizationId: pick(organizations),
            direction: randomInt(2) ? 'to_organization' : 'to_person',
            amount: 1 + randomInt(6),
          },
          { key: randomUUID(), request: {} },
        );
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < OPERATIONS) {
        next += 1;
        await operation().catch((error: unknown) => {
          // Refusals are expected outcomes (no funds, wrong app, over-refund); anything else is a bug.
          if (!(error instanceof ApiError) || error.status >= 500) throw error;
          refused += 1;
        });
      }
    }),
  );
  t.true(charges.length > 100, `${charges.length} charges booked`);
  t.true(refused > 0, 'some operations were refused, so the guards were exercised');

  t.deepEqual(await ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
  const negative = await db
    .selectFrom('wallets')
    .select('id')
    .where('kind', '!=', 'system')
    .where('balance', '<', 0)
    .execute();
  t.deepEqual(negative, []);
  // System wallets cache no balance: theirs is the sum of their entries.
  const total = await db
    .selectFrom('wallets')
    .select(
      sql<number>`sum(coalesce(balance, (select sum(amount) from ledger_entries e where e.wallet_id = wallets.id)))::int`.as(
        'total',
      ),
    )
    .executeTakeFirstOrThrow();
  t.is(Number(total.total), 0, 'DUST is neither created nor lost: system wallets balance everything else');
  const system = await db
    .selectFrom('wallets')
    .select(['kind', 'owner_id', 'balance'])
    .where('kind', '=', 'system')
    .execute();
  t.true(system.length > 0 && system.every((wallet) => wallet.balance === null), 'system wallets cache no balance');
  const overRefunded = await db
    .selectFrom('ledger_transactions as charge')
    .innerJoin('ledger_transactions as refund', 'refund.reverses_id', 'charge.id')
    .select('charge.id')
    .groupBy(['charge.id', 'charge.amount'])
    .having(sql`sum(refund.amount)`, '>', sql.ref('charge.amount'))
    .execute();
  t.deepEqual(overRefunded, []);
  const grants = await db
    .selectFrom('ledger_transactions')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('kind', '=', 'signup_grant')
    .executeTakeFirstOrThrow();
  t.true(Number(grants.n) <= PEOPLE, 'each person was granted sign-up DUST at most once');
  t.is(
    await ledger.balance('system', 'signup_grants'),
    -25 * Number(grants.n),
    "the issuer's balance, from its entries",
  );
});

test('the database itself refuses an unbalanced transaction and any rewrite of history', async (t) => {
  const server = await startTestServer(t);
  const { db, ledger } = server.app.services;
  await db.insertInto('accounts').values({ id: 'x', email: 'x@example.com', fairyname: 'x_x_0000' }).execute();
  const grant = await ledger.grantSignup('x');
  const wallet = await db.selectFrom('wallets').select('id').where('owner_id', '=', 'x').executeTakeFirstOrThrow();
  await t.throwsAsync(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('ledger_transactions').values({ id: 'bad', kind: 'charge', amount: 5 }).execute();
      await trx
        .insertInto('ledger_entries')
        .values({ id: 'bad-1', transaction_id: 'bad', wallet_id: wallet.id, amount: -5 })
        .execute();
    }),
    { message: /not balanced/ },
  );
  await t.throwsAsync(
    db.updateTable('ledger_entries').set({ amount: 1000 }).where('transaction_id', '=', grant!.id).execute(),
    { message: /append-only/ },
  );
  await t.throwsAsync(db.deleteFrom('ledger_transactions').where('id', '=', grant!.id).execute(), {
    message: /append-only/,
  });
  await t.throwsAsync(
    db
      .updateTable('wallets')
      .set({ balance: -1 } as never)
      .where('id', '=', wallet.id)
      .execute(),
  );
  t.is(await ledger.balance('person', 'x'), 25);
});

test('idempotency keys are kept at least a day, then expire', async (t) => {
  const server = await startTestServer(t);
  const { db, ledger } = server.app.services;
  await db
    .insertInto('idempotency_keys')
    .values([
      { scope: 's', key: 'fresh', request_hash: 'h', response: JSON.stringify({}) },
      { scope: 's', key: 'old', request_hash: 'h', response: JSON.stringify({}) },
    ])
    .execute();
  await db
    .updateTable('idempotency_keys')
    .set({ created_at: sql`now() - interval '49 hours'` } as never)
    .where('key', '=', 'old')
    .execute();
  await ledger.expireIdempotencyKeys();
  const left = await db.selectFrom('idempotency_keys').select('key').execute();
  t.deepEqual(
    left.map((row) => row.key),
    ['fresh'],
  );
});
