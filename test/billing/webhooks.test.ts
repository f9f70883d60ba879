import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { charge, dispute, paidSession, stripeEvent, subscription } from '../helpers/stripe-events.ts';
import {
  deliver,
  STRIPE_WEBHOOK_SECRET,
  signatureFor,
  startStripeStandIn,
  stripeEnv,
} from '../helpers/stripe-stand-in.ts';
import Stripe from 'stripe';

const PLANS = 'team:price_team:10,business:price_business:50';

/** A server on the stand-in, and a person who has opened a Checkout for the small pack (100 DUST). */
async function buyer(t: ExecutionContext) {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, { env: stripeEnv(standIn, { STRIPE_PLANS: PLANS }) });
  const token = await apiToken(server, 'buyer@example.com', ['dust:read', 'dust:spend', 'dust:manage']);
  const opened = await callApi(server, token, 'POST', '/api/dust/checkout', { pack: 'small' });
  const session = standIn.sessions.get(opened.body!.id)!;
  return { server, token, session, paid: paidSession(session) };
}

const balance = async (server: TestServer, token: string) =>
  (await callApi(server, token, 'GET', '/api/dust/balance')).body!.balance as number;
const verified = (server: TestServer) => server.app.services.ledger.verify();
const CLEAN = { unbalancedTransactions: [], walletsOutOfBalance: [] };

test('a signed checkout.session.completed credits exactly the pack’s DUST', async (t) => {
  const { server, token, paid } = await buyer(t);
  t.is(await balance(server, token), 25);
  const delivered = await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  t.is(delivered.status, 200);
  t.like(delivered.body, { received: true, outcome: 'credited' });
  t.is(await balance(server, token), 125);
  const history = await callApi(server, token, 'GET', '/api/dust/transactions?kind=purchase');
  t.deepEqual(
    history.body!.data.map((entry: { amount: number }) => entry.amount),
    [100],
  );
  t.deepEqual(await verified(server), CLEAN);
});

test('the same event twice, a second event for the same session, and concurrent deliveries credit once', async (t) => {
  const { server, token, paid } = await buyer(t);
  const event = stripeEvent('checkout.session.completed', paid);
  t.like((await deliver(server.url, event)).body, { outcome: 'credited' });
  const again = await deliver(server.url, event);
  t.is(again.status, 200);
  t.like(again.body, { received: true, duplicate: true });
  const sameSession = await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  t.like(sameSession.body, { outcome: 'already_credited' });

  const concurrent = stripeEvent('checkout.session.async_payment_succeeded', paid);
  const statuses = (await Promise.all(Array.from({ length: 8 }, () => deliver(server.url, concurrent)))).map(
    (result) => result.status,
  );
  t.true(
    statuses.every((status) => status === 200 || status === 409),
    `statuses ${statuses.join(',')}`,
  );
  t.is(await balance(server, token), 125);
  const stored = await server.app.services.db
    .selectFrom('stripe_events')
    .select(['id', 'outcome'])
    .orderBy('received_at')
    .execute();
  t.is(stored.length, 3, 'each event id is stored once');
  t.deepEqual(await verified(server), CLEAN);
});

test('unsigned, tampered and wrongly signed events are refused with 400 and book nothing', async (t) => {
  const { server, token, paid } = await buyer(t);
  const event = stripeEvent('checkout.session.completed', paid);
  const payload = JSON.stringify(event);

  const unsigned = await deliver(server.url, event, { signature: null });
  t.is(unsigned.status, 400);
  t.is(unsigned.body!.error, 'invalid_signature');

  const richer = JSON.stringify({
    ...event,
    data: { object: { ...paid, metadata: { ...paid.metadata, dust: '100000' } } },
  });
  const tampered = await deliver(server.url, event, { body: richer, signature: signatureFor(payload) });
  t.is(tampered.status, 400);
  t.is(tampered.body!.error, 'invalid_signature');

  const foreign = await deliver(server.url, event, { signature: signatureFor(payload, 'whsec_someone_else') });
  t.is(foreign.status, 400);
  const garbage = await deliver(server.url, event, { signature: 't=1,v1=deadbeef' });
  t.is(garbage.status, 400);

  t.is(await balance(server, token), 25);
  t.deepEqual(await server.app.services.db.selectFrom('stripe_events').select('id').execute(), []);
  const tooLarge = await deliver(server.url, event, {
    body: JSON.stringify({ ...event, padding: 'x'.repeat(300 * 1024) }),
  });
  t.is(tooLarge.status, 413);
});

test('a full refund takes the DUST back', async (t) => {
  const { server, token, paid } = await buyer(t);
  await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  t.is(await balance(server, token), 125);
  const refunded = await deliver(
    server.url,
    stripeEvent('charge.refunded', charge(paid.payment_intent, { refunded: true })),
  );
  t.like(refunded.body, { outcome: 'reversed' });
  t.is(await balance(server, token), 25);
  const reversals = await callApi(server, token, 'GET', '/api/dust/transactions?kind=purchase_reversal');
  t.deepEqual(
    reversals.body!.data.map((entry: { amount: number; description: string }) => [entry.amount, entry.description]),
    [[-100, 'refund']],
  );

  t.deepEqual(await verified(server), CLEAN);
});

test('partial refunds take back their share of the DUST, cumulatively, whatever the order', async (t) => {
  const { server, token, paid } = await buyer(t);
  await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  t.is(await balance(server, token), 125);
  const refund = (amountRefunded: number, refunded = false) =>
    deliver(
      server.url,
      stripeEvent('charge.refunded', charge(paid.payment_intent, { refunded, amount: 500, amountRefunded })),
    );
  await refund(125);
  t.is(await balance(server, token), 100, 'a quarter of the money, a quarter of the 100 DUST');
  await refund(125);
  t.is(await balance(server, token), 100, 'the same notice twice takes nothing more');
  await refund(375);
  t.is(await balance(server, token), 50, 'Stripe reports refunds cumulatively');
  await refund(250);
  t.is(await balance(server, token), 50, 'an older, smaller notice arriving late changes nothing');
  await refund(500, true);
  t.is(await balance(server, token), 25);
  t.deepEqual(await verified(server), CLEAN);
});

test('a dispute takes the DUST back, and a later refund of the same payment takes nothing more', async (t) => {
  const { server, token, paid } = await buyer(t);
  await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  const disputed = await deliver(server.url, stripeEvent('charge.dispute.created', dispute(paid.payment_intent)));
  t.like(disputed.body, { outcome: 'reversed' });
  t.is(await balance(server, token), 25);
  await deliver(server.url, stripeEvent('charge.refunded', charge(paid.payment_intent, { refunded: true })));
  t.is(await balance(server, token), 25);
  t.deepEqual(await verified(server), CLEAN);
});

test('a refund that arrives before its checkout.session.completed is applied when the payment is credited', async (t) => {
  const { server, token, paid } = await buyer(t);
  const early = await deliver(
    server.url,
    stripeEvent('charge.refunded', charge(paid.payment_intent, { refunded: true })),
  );
  t.is(early.status, 200);
  t.like(early.body, { outcome: 'waiting_for_payment' });
  t.is(await balance(server, token), 25);

  await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  t.is(await balance(server, token), 25, 'net zero once both are in');
  const history = await callApi(server, token, 'GET', '/api/dust/transactions');
  t.deepEqual(history.body!.data.map((entry: { kind: string; amount: number }) => [entry.kind, entry.amount]).sort(), [
    ['purchase', 100],
    ['purchase_reversal', -100],
    ['signup_grant', 25],
  ]);
  const reversal = await server.app.services.db.selectFrom('stripe_reversals').selectAll().executeTakeFirstOrThrow();
  t.like(reversal, { reason: 'refund', reversed: 100, shortfall: 0 });
  t.truthy(reversal.applied_at);
  t.deepEqual(await verified(server), CLEAN);
});

test('a refund racing its checkout.session.completed is never lost', async (t) => {
  const { server, token, session } = await buyer(t);
  const rounds = 6;
  for (let round = 0; round < rounds; round += 1) {
    const paid = paidSession({ ...session, id: `${session.id}_${round}` });
    const refund = stripeEvent('charge.refunded', charge(paid.payment_intent, { refunded: true }));
    const statuses = await Promise.all([
      deliver(server.url, refund),
      deliver(server.url, stripeEvent('checkout.session.completed', paid)),
    ]);
    t.deepEqual(
      statuses.map((result) => result.status),
      [200, 200],
    );
  }
  t.is(await balance(server, token), 25);
  const waiting = await server.app.services.db
    .selectFrom('stripe_reversals')
    .select('payment_intent')
    .where('applied_at', 'is', null)
    .execute();
  t.deepEqual(waiting, []);
  t.deepEqual(await verified(server), CLEAN);
});

test('a refund after the DUST was spent takes back only what is left, and the ledger stays balanced', async (t) => {
  const { server, token, paid } = await buyer(t);
  await deliver(server.url, stripeEvent('checkout.session.completed', paid));
  const spent = await fetch(`${server.url}/api/dust/charges`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ amount: 110, description: 'A unicorn ride' }),
  });
  t.is(spent.status, 201);
  t.is(await balance(server, token), 15);

  await deliver(server.url, stripeEvent('charge.refunded', charge(paid.payment_intent, { refunded: true })));
  t.is(await balance(server, token), 0, 'never below zero');
  const reversal = await server.app.services.db.selectFrom('stripe_reversals').selectAll().executeTakeFirstOrThrow();
  t.like(reversal, { reversed: 15, shortfall: 85 });
  t.deepEqual(await verified(server), CLEAN);
});

test('subscription events create, update and cancel the plan, and an older update never wins', async (t) => {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, { env: stripeEnv(standIn, { STRIPE_PLANS: PLANS, ORG_APPROVAL: 'auto' }) });
  const owner = await apiToken(server, 'owner@example.com', ['organizations:read', 'organizations:write']);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Grove', slug: 'grove' })).body!;
  const { plans } = server.app.services;
  const at = Math.floor(Date.now() / 1000);
  const team = { id: 'sub_grove', organizationId: org.id, plan: 'team', priceId: 'price_team' };
  const send = (type: string, state: Parameters<typeof subscription>[0], created: number) =>
    deliver(server.url, stripeEvent(`customer.subscription.${type}`, subscription(state), { created }));

  t.like((await send('created', { ...team, status: 'active', periodEnd: at + 1000 }, at)).body, {
    outcome: 'plan_updated',
  });
  t.deepEqual(await plans.limitsFor(org.id), { plan: 'team', status: 'active', environments: 10 });
  const read = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/plan`);
  t.deepEqual(read.body, {
    plan: 'team',
    status: 'active',
    environments: 10,
    current_period_end: new Date((at + 1000) * 1000).toISOString(),
  });

  // An upgrade to business (newer), then a stale past_due update of the team price arriving late.
  await send('updated', { ...team, plan: 'business', priceId: 'price_business', status: 'active' }, at + 20);
  const stale = await send('updated', { ...team, status: 'past_due' }, at + 10);
  t.is(stale.status, 200);
  t.like(stale.body, { outcome: 'plan_not_newer' });
  t.deepEqual(await plans.limitsFor(org.id), { plan: 'business', status: 'active', environments: 50 });

  await send('deleted', { ...team, plan: 'business', priceId: 'price_business', status: 'canceled' }, at + 30);
  t.deepEqual(await plans.limitsFor(org.id), { plan: 'free', status: 'canceled', environments: 1 });
  const revived = await send('updated', { ...team, status: 'active' }, at + 30);
  t.like(revived.body, { outcome: 'plan_not_newer' }, 'a canceled subscription stays canceled');

  // A new subscription replaces the canceled one; the old one's late news does not touch it.
  await send('created', { ...team, id: 'sub_grove_2', status: 'active' }, at + 25);
  t.deepEqual(await plans.limitsFor(org.id), { plan: 'team', status: 'active', environments: 10 });
  await send('deleted', { ...team, status: 'canceled' }, at + 40);
  t.deepEqual(await plans.limitsFor(org.id), { plan: 'team', status: 'active', environments: 10 });

  const strangers = await send('created', { ...team, id: 'sub_x', organizationId: randomUUID(), status: 'active' }, at);
  t.like(strangers.body, { outcome: 'organization_gone' });
});

test('event types we do not handle are answered 200 at once and stored nowhere', async (t) => {
  const { server, token } = await buyer(t);
  const ignored = await deliver(server.url, stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }));
  t.is(ignored.status, 200);
  t.like(ignored.body, { received: true, outcome: 'ignored' });
  t.deepEqual(await server.app.services.db.selectFrom('stripe_events').select('id').execute(), []);
  const unpaid = await deliver(
    server.url,
    stripeEvent('checkout.session.completed', {
      id: 'cs_x',
      object: 'checkout.session',
      mode: 'payment',
      payment_status: 'unpaid',
      metadata: {},
    }),
  );
  t.like(unpaid.body, { outcome: 'waiting_for_payment' });
  t.is(await balance(server, token), 25);
});

// One server for both rules: this file already starts a server per test.
test('correctly signed events we cannot read are acknowledged and dropped; signatures from the future are refused', async (t) => {
  const { server, token, paid } = await buyer(t);
  const event = stripeEvent('checkout.session.completed', paid);
  const { id: _id, ...withoutId } = event;
  for (const body of [
    'null',
    '"evt"',
    JSON.stringify(withoutId),
    JSON.stringify({ ...event, data: null }),
    JSON.stringify({ ...event, id: 'evt_\u0000' }),
    JSON.stringify({ ...event, type: '\ud800' }),
  ]) {
    // A 500 here would have Stripe retry the delivery for days.
    const answer = await deliver(server.url, event, { body });
    t.is(answer.status, 200, body.slice(0, 40));
    t.like(answer.body, { received: true, outcome: 'ignored_malformed' });
  }
  t.is(await balance(server, token), 25);
  t.deepEqual(await server.app.services.db.selectFrom('stripe_events').select('id').execute(), []);

  const payload = JSON.stringify(event);
  const signedAt = (offset: number) =>
    Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: STRIPE_WEBHOOK_SECRET,
      timestamp: Math.floor(Date.now() / 1000) + offset,
    });
  const ahead = await deliver(server.url, {}, { body: payload, signature: signedAt(3600) });
  t.is(ahead.status, 400);
  t.is(ahead.body!.error, 'invalid_signature');
  t.is(await balance(server, token), 25);
  // A little clock drift is not refused.
  const drifting = await deliver(server.url, {}, { body: payload, signature: signedAt(20) });
  t.is(drifting.status, 200);
  t.is(await balance(server, token), 125);
});
