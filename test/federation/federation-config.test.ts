import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const appleKey = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

test('Microsoft and Apple are read from their variables, Apple’s key from the variable or a file', (t) => {
  const pem = appleKey();
  const file = join(mkdtempSync(join(tmpdir(), 'fairyid-apple-')), 'AuthKey_KEY1234567.p8');
  writeFileSync(file, pem);
  const apple = { APPLE_CLIENT_ID: 'example.fairyid', APPLE_TEAM_ID: 'TEAM123456', APPLE_KEY_ID: 'KEY1234567' };
  const { federation } = loadConfig({
    MICROSOFT_CLIENT_ID: 'app-id',
    MICROSOFT_CLIENT_SECRET: 'secret',
    ...apple,
    APPLE_PRIVATE_KEY_FILE: file,
  });
  t.deepEqual(
    federation.providers.map(({ id, issuer, trustsEmail }) => ({ id, issuer, trustsEmail })),
    [
      { id: 'microsoft', issuer: 'https://login.microsoftonline.com/common/v2.0', trustsEmail: false },
      { id: 'apple', issuer: 'https://appleid.apple.com', trustsEmail: true },
    ],
  );
  t.is(federation.providers[1]?.appleKey?.privateKeyPem, pem);
  const inline = loadConfig({ ...apple, APPLE_PRIVATE_KEY: pem.replaceAll('\n', '\\n') });
  t.is(inline.federation.providers[0]?.appleKey?.privateKeyPem, pem);
  const tenant = loadConfig({
    MICROSOFT_CLIENT_ID: 'a',
    MICROSOFT_CLIENT_SECRET: 'b',
    MICROSOFT_TENANT: 'organizations',
  });
  t.is(tenant.federation.providers[0]?.issuer, 'https://login.microsoftonline.com/organizations/v2.0');
});

test('half of Microsoft or Apple, an Apple key that is not EC P-256, an unreadable key file and both key forms are refused', (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const half = refused({ MICROSOFT_CLIENT_ID: 'only-the-id', APPLE_CLIENT_ID: 'example.fairyid' });
  t.regex(half, /^ {2}MICROSOFT_CLIENT_ID: /m);
  t.regex(half, /^ {2}APPLE_CLIENT_ID: /m);
  const message = refused({
    APPLE_CLIENT_ID: 'example.fairyid',
    APPLE_TEAM_ID: 'team',
    APPLE_PRIVATE_KEY: rsa.toString(),
    APPLE_PRIVATE_KEY_FILE: '/nonexistent/AuthKey.p8',
  });
  for (const name of ['APPLE_TEAM_ID', 'APPLE_PRIVATE_KEY', 'APPLE_PRIVATE_KEY_FILE']) {
    t.regex(message, new RegExp(`^  ${name}: `, 'm'), name);
  }
  const both = appleKey();
  const file = join(mkdtempSync(join(tmpdir(), 'fairyid-apple-')), 'AuthKey_KEY1234567.p8');
  writeFileSync(file, both);
  t.regex(
    refused({
      APPLE_CLIENT_ID: 'example.fairyid',
      APPLE_TEAM_ID: 'TEAM123456',
      APPLE_KEY_ID: 'KEY1234567',
      APPLE_PRIVATE_KEY: both,
      APPLE_PRIVATE_KEY_FILE: file,
    }),
    /^ {2}APPLE_PRIVATE_KEY_FILE: give APPLE_PRIVATE_KEY or APPLE_PRIVATE_KEY_FILE, not both/m,
  );
  t.false(message.includes('PRIVATE KEY-----'));
});
