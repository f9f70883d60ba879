import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://id.example.com',
  KEYS_SECRET: 'k'.repeat(32),
  COOKIE_KEYS: 'c'.repeat(32),
  SMTP_URL: 'smtp://mail.example.com:587',
};

const refusal = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('accepted');
};

test('the local driver is the development default and is refused in production', (t) => {
  t.is(loadConfig({}).environments.driver.kind, 'local');
  t.regex(refusal({ ...PRODUCTION, ENVIRONMENT_DRIVER: 'local' }), /ENVIRONMENT_DRIVER: local is for development only/);
  t.is(loadConfig(PRODUCTION).environments.driver.kind, 'none', 'no token in production: no environments');
});

test('DigitalOcean needs its token; DO_API_URL points it at a stand-in', (t) => {
  t.regex(refusal({ ENVIRONMENT_DRIVER: 'digitalocean' }), /DO_API_TOKEN: is required/);
  const config = loadConfig({ ...PRODUCTION, DO_API_TOKEN: 'dop_v1_abcdef', DO_API_URL: 'http://127.0.0.1:9999' });
  t.deepEqual(config.environments.driver, {
    kind: 'digitalocean',
    token: 'dop_v1_abcdef',
    apiUrl: 'http://127.0.0.1:9999',
  });
});

test('prices must name every tier; idle warnings come before the idle stop', (t) => {
  t.deepEqual(loadConfig({}).environments.prices, { free: 1, starter: 2, pro: 4 });
  t.deepEqual(loadConfig({ ENVIRONMENT_PRICES: 'free:0,starter:3,pro:9' }).environments.prices, {
    free: 0,
    starter: 3,
    pro: 9,
  });
  t.regex(refusal({ ENVIRONMENT_PRICES: 'free:1,starter:2' }), /must price every tier/);
  t.regex(refusal({ ENVIRONMENT_PRICES: 'free:1,starter:2,pro:4,huge:9' }), /"huge:9" is not/);
  t.regex(
    refusal({ ENVIRONMENT_IDLE_MINUTES: '10', ENVIRONMENT_IDLE_WARNING_MINUTES: '10' }),
    /ENVIRONMENT_IDLE_WARNING_MINUTES: must be shorter/,
  );
});
