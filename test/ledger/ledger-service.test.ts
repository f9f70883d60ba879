import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { Db } from '../../src/db/database.ts';
import { createEventRecorder } from '../../src/events/event-recorder.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createLedgerService, type LedgerActor } from '../../src/ledger/ledger.service.ts';
import { ApiError } from '../../src/shared/api-error.ts';
import { migratedDatabase } from '../helpers/migrated-database.ts';

// The money path without HTTP: the service decides who may move whose DUST and books it once.

const APPROVED = 'approved-app';
const UNAPPROVED = 'unapproved-app';

async function ledgerWith(db: Db, people: string[]) {
  await db
    .insertInto('accounts')
    .values(people.map((id, i) => ({ id, email: `${id}@example.com`, fairyname: `ledger_person_${1000 + i}` })))
    .execute();
  const ledger = createLedgerService({
    db,
    events: createEventRecorder(systemClock),
    clients: {
      find: async (clientId) =>
        clientId === APPROVED ? { organization_id: 'org-active' } : { organization_id: 'org-pending' },
    },
    organizations: {
      // The organization, its members and their permissions, as the organizations domain would answer.
      authorize: async (accountId, organizationId, permission) => {
        const owner = accountId === 'owner' && organizationId === 'org-active';
        const member = accountId === 'member' && organizationId === 'org-active' && permission !== 'billing:manage';
        if (!owner && !member) throw new ApiError(404, 'organization_not_found', 'No such organization.');
      },
      requireActive: async (organizationId) => {
        if (organizationId !== 'org-active') throw new ApiError(403, 'organization_not_active', 'Not approved.');
      },
    },
  });
  for (const person of people) await ledger.grantSignup(person);
  return ledger;
}

const as = (clientId: string, accountId?: string): LedgerActor => ({ clientId, accountId });
const once = (request: unknown = {}, key = randomUUID()) => ({ key, request });

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.code;
}

test('a person’s charge moves DUST to the app once per key; a different request with the key is refused', async (t) => {
  const ledger = await ledgerWith(await migratedDatabase(t), ['alice']);
  const request = once({ amount: 10 });
  const first = await ledger.charge(as('game', 'alice'), { amount: 10, description: 'Bean' }, request);
  t.false(first.replayed);
  t.is(first.transaction.amount, 10);
  const replay = await ledger.charge(as('game', 'alice'), { amount: 10, description: 'Bean' }, request);
  t.true(replay.replayed);
  t.is(replay.transaction.id, first.transaction.id);
  t.deepEqual(replay.transaction.created_at, first.transaction.created_at, 'the replay answers the same transaction');
  t.is(await ledger.balance('person', 'alice'), 15);
  t.is(await ledger.balance('app', 'game'), 10);
  t.is(
    await refusedWith(
      ledger.charge(as('game', 'alice'), { amount: 11, description: 'Bean' }, once({ amount: 11 }, request.key)),
    ),
    'idempotency_key_reused',
  );
  t.is(
    await refusedWith(ledger.charge(as('game', 'alice'), { amount: 1, accountId: 'bob', description: 'x' }, once())),
    'forbidden',
    'a person’s token charges only that person',
  );
});

test('a refused charge stores nothing, so its key works once the reason is gone', async (t) => {
  const ledger = await ledgerWith(await migratedDatabase(t), ['alice']);
  const request = once({ amount: 30 });
  const charge = () => ledger.charge(as('game', 'alice'), { amount: 30, description: 'Castle' }, request);
  t.is(await refusedWith(charge()), 'insufficient_funds');
  await ledger.purchase({ accountId: 'alice', amount: 5, reference: 'cs_1', description: 'Pack' });
  t.false((await charge()).replayed);
  t.is(await ledger.balance('person', 'alice'), 0);
});

test('an app without the person charges only when approved, with account_id, within the allowance', async (t) => {
  const ledger = await ledgerWith(await migratedDatabase(t), ['alice']);
  const charge = (clientId: string, amount: number, accountId: string | undefined) =>
    ledger.charge(as(clientId), { accountId, amount, description: 'Level' }, once());
  t.is(await refusedWith(charge(UNAPPROVED, 1, 'alice')), 'app_not_approved');
  t.is(await refusedWith(charge(APPROVED, 1, undefined)), 'invalid_request');
  t.is(await refusedWith(charge(APPROVED, 1, 'alice')), 'allowance_exceeded', 'no allowance was set');
  await ledger.setAllowance('alice', APPROVED, 10);
  t.false((await charge(APPROVED, 6, 'alice')).replayed);
  t.is(await refusedWith(charge(APPROVED, 5, 'alice')), 'allowance_exceeded', 'only 4 of the allowance is left');
  t.is(await ledger.balance('person', 'alice'), 19);
});

test('only the charging app refunds, with its own token, never more than it charged', async (t) => {
  const ledger = await ledgerWith(await migratedDatabase(t), ['alice', 'bob']);
  const { transaction: charge } = await ledger.charge(
    as('game', 'alice'),
    { amount: 8, description: 'Potion' },
    once(),
  );
  const refund = (actor: LedgerActor, amount?: number) =>
    ledger.refund(actor, { chargeId: charge.id, amount }, once({ amount }));
  t.is(await refusedWith(refund(as('game', 'alice'), 3)), 'client_token_required', 'not the charged person’s token');
  t.is(await refusedWith(refund(as('game', 'bob'), 3)), 'client_token_required', 'nor another person’s');
  t.is(await refusedWith(refund(as('other-app'), 3)), 'charge_not_found', 'nor another app');
  t.is((await refund(as('game'), 3)).transaction.reverses_id, charge.id);
  t.is(await refusedWith(refund(as('game'), 6)), 'refund_exceeds_charge');
  t.is((await refund(as('game'))).transaction.amount, 5, 'without an amount, what is left');
  t.is(await refusedWith(refund(as('game'), 1)), 'refund_exceeds_charge');
  t.is(await ledger.balance('person', 'alice'), 25);
  t.is(await ledger.balance('app', 'game'), 0);
});

test('transfers follow the organization’s permissions: members give, owners take', async (t) => {
  const ledger = await ledgerWith(await migratedDatabase(t), ['owner', 'member', 'stranger']);
  const transfer = (accountId: string, direction: 'to_organization' | 'to_person', amount: number) =>
    ledger.transfer(as('console', accountId), { organizationId: 'org-active', direction, amount }, once());
  await transfer('member', 'to_organization', 20);
  t.is(await refusedWith(transfer('member', 'to_person', 1)), 'organization_not_found');
  t.is(await refusedWith(transfer('stranger', 'to_organization', 1)), 'organization_not_found');
  t.is(await refusedWith(transfer('owner', 'to_person', 21)), 'insufficient_funds');
  await transfer('owner', 'to_person', 7);
  t.is(await ledger.balance('organization', 'org-active'), 13);
  t.is(await ledger.balance('person', 'owner'), 32);
  t.is(
    await refusedWith(
      ledger.transfer(as('console'), { organizationId: 'org-active', direction: 'to_person', amount: 1 }, once()),
    ),
    'person_required',
  );
});

test('concurrent charges never overspend, and concurrent duplicates of one key book once', async (t) => {
  const ledger = await ledgerWith(await migratedDatabase(t), ['alice']);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 60 }, () => ledger.charge(as('game', 'alice'), { amount: 1, description: 'rush' }, once())),
  );
  t.is(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 25);
  t.is(await ledger.balance('person', 'alice'), 0);

  await ledger.purchase({ accountId: 'alice', amount: 10, reference: 'cs_2', description: 'Pack' });
  const request = once({ amount: 4 });
  const duplicates = await Promise.all(
    Array.from({ length: 20 }, () => ledger.charge(as('game', 'alice'), { amount: 4, description: 'once' }, request)),
  );
  t.is(new Set(duplicates.map((booked) => booked.transaction.id)).size, 1);
  t.is(duplicates.filter((booked) => !booked.replayed).length, 1);
  t.is(await ledger.balance('person', 'alice'), 6);
  t.deepEqual(await ledger.verify(), { unbalancedTransactions: [], walletsOutOfBalance: [] });
});
