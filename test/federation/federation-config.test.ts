import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';

const ACME = {
  FEDERATION_PROVIDERS: 'acme',
  FEDERATION_ACME_ISSUER: 'https://sso.acme.example',
  FEDERATION_ACME_CLIENT_ID: 'fairyid',
  FEDERATION_ACME_CLIENT_SECRET: 'secret',
};

function refused(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

test('each generic provider named in FEDERATION_PROVIDERS is read from its own variables, and Google from its pair', (t) => {
  const { federation } = loadConfig({
    ...ACME,
    FEDERATION_ACME_NAME: 'Acme SSO',
    GOOGLE_CLIENT_ID: 'id',
    GOOGLE_CLIENT_SECRET: 'secret',
    GITHUB_CLIENT_ID: 'Iv1.id',
    GITHUB_CLIENT_SECRET: 'secret',
    FACEBOOK_CLIENT_ID: '123',
    FACEBOOK_CLIENT_SECRET: 'secret',
  });
  t.deepEqual(
    federation.providers.map(({ id, name, issuer, trustsEmail }) => ({ id, name, issuer, trustsEmail })),
    [
      { id: 'google', name: 'Google', issuer: 'https://accounts.google.com', trustsEmail: true },
      { id: 'github', name: 'GitHub', issuer: 'https://github.com', trustsEmail: true },
      { id: 'facebook', name: 'Facebook', issuer: 'https://www.facebook.com', trustsEmail: false },
      { id: 'acme', name: 'Acme SSO', issuer: 'https://sso.acme.example', trustsEmail: false },
    ],
  );
  t.is(federation.timeoutSeconds, 5);
  t.deepEqual(loadConfig({}).federation.providers, []);
});

test('a provider missing its variables, a built-in id, a plain-http issuer off loopback and half of Google are all reported at once', (t) => {
  const message = refused({
    FEDERATION_PROVIDERS: 'acme,google,corp',
    FEDERATION_CORP_ISSUER: 'http://sso.corp.example',
    FEDERATION_CORP_CLIENT_ID: 'x',
    FEDERATION_CORP_CLIENT_SECRET: 'y',
    GOOGLE_CLIENT_ID: 'only-the-id',
    GITHUB_CLIENT_SECRET: 'only-the-secret',
    FACEBOOK_CLIENT_ID: 'only-the-id',
  });
  for (const name of [
    'FEDERATION_PROVIDERS',
    'FEDERATION_ACME_ISSUER',
    'FEDERATION_ACME_CLIENT_ID',
    'FEDERATION_ACME_CLIENT_SECRET',
    'FEDERATION_CORP_ISSUER',
    'GOOGLE_CLIENT_ID',
    'GITHUB_CLIENT_ID',
    'FACEBOOK_CLIENT_ID',
  ]) {
    t.regex(message, new RegExp(`^  ${name}(\\.\\d+)?: `, 'm'), name);
  }
});

test('plain http reaches an upstream on loopback outside production only', (t) => {
  const loopback = { ...ACME, FEDERATION_ACME_ISSUER: 'http://127.0.0.2:8080' };
  t.is(loadConfig(loopback).federation.providers[0]?.issuer, 'http://127.0.0.2:8080');
  const production = {
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.com',
    KEYS_SECRET: 'k'.repeat(32),
    COOKIE_KEYS: 'c'.repeat(32),
    SMTP_URL: 'smtp://mail.example.com',
  };
  t.regex(refused({ ...production, ...loopback }), /^ {2}FEDERATION_ACME_ISSUER: must use https/m);
  t.regex(
    refused({
      ...production,
      GOOGLE_CLIENT_ID: 'a',
      GOOGLE_CLIENT_SECRET: 'b',
      GOOGLE_ISSUER_URL: 'http://127.0.0.3:1',
    }),
    /^ {2}GOOGLE_ISSUER_URL: must use https/m,
  );
});
