import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { STRIPE_SECRET_KEY, startStripeStandIn, stripeEnv } from '../helpers/stripe-stand-in.ts';

const PACKS = 'small:100:500:usd,large:1000:4000:eur';
const PLANS = 'team:price_team:10,business:price_business:50';
const ORG_SCOPES = ['organizations:read', 'organizations:write'];

async function accountId(server: TestServer, email: string) {
  return (
    await server.app.services.db
      .selectFrom('accounts')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirstOrThrow()
  ).id;
}

test('a DUST checkout opens a Stripe Checkout Session for the pack, naming the account', async (t) => {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, { env: stripeEnv(standIn, { DUST_PACKS: PACKS }) });
  const token = await apiToken(server, 'buyer@example.com', ['dust:read', 'dust:manage']);
  const buyer = await accountId(server, 'buyer@example.com');

  const packs = await callApi(server, token, 'GET', '/api/dust/packs');
  t.deepEqual(packs.body!.data, [
    { id: 'small', dust: 100, price: 500, currency: 'usd' },
    { id: 'large', dust: 1000, price: 4000, currency: 'eur' },
  ]);

  const started = await callApi(server, token, 'POST', '/api/dust/checkout', { pack: 'large' });
  t.is(started.status, 201);
  t.regex(started.body!.id, /^cs_test_/);
  t.is(started.body!.url, `https://checkout.stripe.test/c/pay/${started.body!.id}`);

  const [request, ...more] = standIn.checkoutRequests();
  t.is(more.length, 0);
  t.is(request!.authorization, `Bearer ${STRIPE_SECRET_KEY}`);
  t.like(request!.form, {
    mode: 'payment',
    'line_items[0][quantity]': '1',
    'line_items[0][price_data][unit_amount]': '4000',
    'line_items[0][price_data][currency]': 'eur',
    client_reference_id: buyer,
    'metadata[account_id]': buyer,
    'metadata[pack]': 'large',
    'metadata[dust]': '1000',
  });
  t.true(request!.form.success_url!.startsWith(`${server.url}/`));
  t.true(request!.form.cancel_url!.startsWith(`${server.url}/`));
  t.is(
    (await callApi(server, token, 'GET', '/api/dust/balance')).body!.balance,
    25,
    'nothing is credited before Stripe says it was paid',
  );
});

test('a DUST checkout refuses unknown packs and tokens without dust:manage, and asks Stripe nothing', async (t) => {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, { env: stripeEnv(standIn) });
  const token = await apiToken(server, 'picky@example.com', ['dust:manage']);
  const unknown = await callApi(server, token, 'POST', '/api/dust/checkout', { pack: 'huge' });
  t.is(unknown.status, 400);
  t.is(unknown.body!.error, 'invalid_request');
  t.regex(unknown.body!.error_description, /body "pack"/);

  const reader = await apiToken(server, 'reader@example.com', ['dust:read']);
  const refused = await callApi(server, reader, 'POST', '/api/dust/checkout', { pack: 'small' });
  t.is(refused.status, 403);
  t.is(refused.body!.error, 'insufficient_scope');
  t.is(standIn.checkoutRequests().length, 0);
});

test('when Stripe refuses, the caller gets 502 payment_provider_unavailable', async (t) => {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, { env: stripeEnv(standIn) });
  const token = await apiToken(server, 'unlucky@example.com', ['dust:manage']);
  standIn.state.fail = true;
  const failed = await callApi(server, token, 'POST', '/api/dust/checkout', { pack: 'small' });
  t.is(failed.status, 502);
  t.is(failed.body!.error, 'payment_provider_unavailable');
});

test('the billing routes are in the OpenAPI document, and absent without STRIPE_SECRET_KEY', async (t) => {
  const standIn = await startStripeStandIn(t);
  const withStripe = await startTestServer(t, { env: stripeEnv(standIn) });
  const document = (await (await fetch(`${withStripe.url}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  t.truthy(document.paths['/api/dust/checkout']?.post);
  t.truthy(document.paths['/api/organizations/{id}/plan/checkout']?.post);
  t.truthy(document.paths['/api/organizations/{id}/plan']?.get);

  const without = await startTestServer(t);
  const token = await apiToken(without, 'nobody@example.com', ['dust:manage']);
  t.is((await callApi(without, token, 'POST', '/api/dust/checkout', { pack: 'small' })).status, 404);
  t.is((await fetch(`${without.url}/webhooks/stripe`, { method: 'POST', body: '{}' })).status, 404);
  t.deepEqual(await without.app.services.plans.limitsFor('00000000-0000-4000-8000-000000000000'), {
    plan: 'free',
    status: 'none',
    environments: 1,
  });
});

test('owners and billing members of an approved organization start a plan checkout; others cannot', async (t) => {
  const standIn = await startStripeStandIn(t);
  const server = await startTestServer(t, { env: stripeEnv(standIn, { STRIPE_PLANS: PLANS }) });
  const owner = await apiToken(server, 'owner@example.com', ORG_SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Glade', slug: 'glade' })).body!;
  const checkout = (token: string, plan = 'team') =>
    callApi(server, token, 'POST', `/api/organizations/${org.id}/plan/checkout`, { plan });

  const pending = await checkout(owner);
  t.is(pending.status, 403);
  t.is(pending.body!.error, 'organization_not_active', 'a pending organization cannot pay for anything yet');
  await server.app.services.db
    .updateTable('organizations')
    .set({ status: 'active' })
    .where('id', '=', org.id)
    .execute();

  const tokens: Record<string, string> = {};
  for (const role of ['admin', 'member', 'billing'] as const) {
    const email = `${role}@example.com`;
    tokens[role] = await apiToken(server, email, ORG_SCOPES);
    await server.app.services.db
      .insertInto('memberships')
      .values({ organization_id: org.id, account_id: await accountId(server, email), role })
      .execute();
  }
  for (const role of ['admin', 'member']) {
    const refused = await checkout(tokens[role]!);
    t.is(refused.status, 403, role);
    t.is(refused.body!.error, 'forbidden');
  }
  const stranger = await apiToken(server, 'stranger@example.com', ORG_SCOPES);
  t.is((await checkout(stranger)).status, 404);
  t.is((await checkout(tokens.billing!, 'galaxy')).status, 400);
  t.is(standIn.checkoutRequests().length, 0);

  const started = await checkout(tokens.billing!, 'business');
  t.is(started.status, 201);
  t.regex(started.body!.url, /^https:\/\/checkout\.stripe\.test\//);
  t.like(standIn.checkoutRequests()[0]!.form, {
    mode: 'subscription',
    'line_items[0][price]': 'price_business',
    'line_items[0][quantity]': '1',
    client_reference_id: org.id,
    'metadata[organization_id]': org.id,
    'metadata[plan]': 'business',
    'subscription_data[metadata][organization_id]': org.id,
    'subscription_data[metadata][plan]': 'business',
  });
  t.is((await checkout(owner, 'team')).status, 201, 'owners may too');

  const plan = await callApi(server, tokens.billing!, 'GET', `/api/organizations/${org.id}/plan`);
  t.deepEqual(
    plan.body,
    { plan: 'free', status: 'none', environments: 1, current_period_end: null },
    'a checkout changes nothing until Stripe confirms it',
  );
  t.is((await callApi(server, tokens.member!, 'GET', `/api/organizations/${org.id}/plan`)).status, 403);
  t.is((await callApi(server, tokens.admin!, 'GET', `/api/organizations/${org.id}/plan`)).status, 200);
});
