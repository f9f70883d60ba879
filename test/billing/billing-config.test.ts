import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** The variables a ConfigError names, as in test/config.test.ts. */
function refusedNames(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.message.matchAll(/^ {2}([A-Z_]+)(?:\.\w+)*: /gm)].map((match) => match[1]!).sort();
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

const STRIPE = { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: 'whsec_123' };

test('without Stripe settings there is no Stripe, the default packs and no plans', (t) => {
  const config = loadConfig({});
  t.is(config.stripe, undefined);
  t.deepEqual(config.dustPacks, [
    { id: 'small', dust: 100, priceCents: 500, currency: 'usd' },
    { id: 'large', dust: 1000, priceCents: 4000, currency: 'usd' },
  ]);
  t.deepEqual(config.plans, []);
});

test('Stripe settings and catalogs are parsed', (t) => {
  const config = loadConfig({
    ...STRIPE,
    STRIPE_API_URL: 'http://127.0.0.1:12111',
    DUST_PACKS: 'tiny:10:99:EUR, mega:5000:15000:usd',
    STRIPE_PLANS: 'team:price_team:10,business:price_1AbC:50',
  });
  t.deepEqual(config.stripe, {
    secretKey: 'sk_test_123',
    webhookSecret: 'whsec_123',
    apiUrl: 'http://127.0.0.1:12111',
  });
  t.deepEqual(
    config.dustPacks.map((pack) => [pack.id, pack.dust, pack.priceCents, pack.currency]),
    [
      ['tiny', 10, 99, 'eur'],
      ['mega', 5000, 15000, 'usd'],
    ],
  );
  t.deepEqual(config.plans, [
    { id: 'team', priceId: 'price_team', environments: 10 },
    { id: 'business', priceId: 'price_1AbC', environments: 50 },
  ]);
});

for (const [name, env] of [
  ['STRIPE_WEBHOOK_SECRET', { STRIPE_SECRET_KEY: 'sk_test_123' }],
  ['STRIPE_WEBHOOK_SECRET', { ...STRIPE, STRIPE_WEBHOOK_SECRET: 'not-a-secret' }],
  ['STRIPE_SECRET_KEY', { ...STRIPE, STRIPE_SECRET_KEY: 'pk_test_publishable' }],
  ['STRIPE_API_URL', { ...STRIPE, STRIPE_API_URL: 'ftp://127.0.0.1' }],
  ['STRIPE_API_URL', { ...STRIPE, STRIPE_API_URL: 'http://127.0.0.1:12111/v1' }],
  ['DUST_PACKS', { DUST_PACKS: 'small:100:500' }],
  ['DUST_PACKS', { DUST_PACKS: 'small:0:500:usd' }],
  ['DUST_PACKS', { DUST_PACKS: 'small:100:500:usd,small:200:900:usd' }],
  ['DUST_PACKS', { DUST_PACKS: ',' }],
  ['STRIPE_PLANS', { STRIPE_PLANS: 'team:price_team' }],
  ['STRIPE_PLANS', { STRIPE_PLANS: 'free:price_free:1' }],
  ['STRIPE_PLANS', { STRIPE_PLANS: 'team:price_team:ten' }],
] as const) {
  test(`${JSON.stringify(env)} is refused at boot, naming ${name}`, (t) => {
    t.deepEqual(refusedNames(env), [name]);
  });
}
