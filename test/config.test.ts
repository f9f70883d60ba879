import { spawn } from 'node:child_process';
import test from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';

const ROOT = new URL('../', import.meta.url);
const SECRET = 'a'.repeat(32);
/** The least a production configuration needs. */
const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://id.example.com',
  KEYS_SECRET: SECRET,
  COOKIE_KEYS: SECRET,
  SMTP_URL: 'smtp://mail.example.com:587',
};

/** The variables a ConfigError names, one per line ("  NAME: reason", or "  NAME.1: reason" for a list item). */
function namedVariables(error: unknown): string[] {
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return [...error.message.matchAll(/^ {2}([A-Z_]+)(?:\.\w+)*: /gm)].map((match) => match[1]!).sort();
}

function refusal(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    return { error, names: namedVariables(error) };
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

for (const [name, value] of [
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['ISSUER', 'ftp://x'],
  ['ISSUER', 'https://id.example.com/'],
  ['DATABASE_URL', 'mysql://x'],
  ['REDIS_URL', 'http://x'],
  ['SMTP_URL', 'http://x'],
  ['KEYS_SECRET', 'too-short'],
  ['COOKIE_KEYS', `${SECRET},short`],
  ['TRUST_PROXY', 'yes'],
  ['TRUSTED_PROXY_HOPS', '2'],
  ['OTP_TTL', '0'],
  ['LOG_LEVEL', 'loud'],
  ['REFRESH_TOKEN_REUSE_GRACE_SECONDS', '-1'],
  ['REFRESH_TOKEN_REUSE_GRACE_SECONDS', '61'],
  ['REFRESH_TOKEN_REUSE_GRACE_SECONDS', '2.5'],
  ['FAIRY_CLI_CLIENT', 'maybe'],
] as const) {
  test(`${name}=${value} is refused with a ConfigError naming ${name}`, (t) => {
    const { error, names } = refusal({ [name]: value });
    t.true(error instanceof ConfigError);
    t.deepEqual(names, [name]);
  });
}

test('TRUSTED_PROXY_HOPS counts the proxies that append to X-Forwarded-For: one by default behind a trusted proxy, none without', (t) => {
  t.is(loadConfig({}).trustedProxyHops, 0);
  t.is(loadConfig({ TRUST_PROXY: 'true' }).trustedProxyHops, 1);
  t.is(loadConfig({ TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: '2' }).trustedProxyHops, 2);
  for (const hops of ['0', '-1', '1.5', 'two', '11']) {
    t.deepEqual(refusal({ TRUST_PROXY: 'true', TRUSTED_PROXY_HOPS: hops }).names, ['TRUSTED_PROXY_HOPS'], hops);
  }
});

test('the refresh-token grace window is 10 seconds by default, and 0 turns it off', (t) => {
  t.is(loadConfig({}).refreshTokenReuseGraceSeconds, 10);
  t.is(loadConfig({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' }).refreshTokenReuseGraceSeconds, 0);
  t.is(loadConfig({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: '60' }).refreshTokenReuseGraceSeconds, 60);
});

test('the fairy-cli client exists by default, in production too, unless FAIRY_CLI_CLIENT=false', (t) => {
  t.true(loadConfig({}).cliClient);
  t.false(loadConfig({ FAIRY_CLI_CLIENT: 'false' }).cliClient);
  t.true(loadConfig(PRODUCTION).cliClient);
});

test('/api answers are checked against their schemas outside production unless API_RESPONSE_CHECKS says otherwise', (t) => {
  t.true(loadConfig({}).apiResponseChecks);
  t.true(loadConfig({ NODE_ENV: 'test' }).apiResponseChecks);
  t.false(loadConfig({ NODE_ENV: 'test', API_RESPONSE_CHECKS: 'false' }).apiResponseChecks);
  t.false(loadConfig(PRODUCTION).apiResponseChecks);
  t.true(loadConfig({ ...PRODUCTION, API_RESPONSE_CHECKS: '1' }).apiResponseChecks);
  t.deepEqual(refusal({ API_RESPONSE_CHECKS: 'sometimes' }).names, ['API_RESPONSE_CHECKS']);
});

test('every malformed variable is reported at once', (t) => {
  t.deepEqual(refusal({ PORT: 'abc', ISSUER: 'ftp://x', DATABASE_URL: 'mysql://x' }).names, [
    'DATABASE_URL',
    'ISSUER',
    'PORT',
  ]);
});

test('production without its own secrets and mail server is refused, naming each missing variable', (t) => {
  t.deepEqual(refusal({ NODE_ENV: 'production', ISSUER: 'https://id.example.com' }).names, [
    'COOKIE_KEYS',
    'KEYS_SECRET',
    'SMTP_URL',
  ]);
  t.deepEqual(refusal({ NODE_ENV: 'production', ISSUER: 'https://id.example.com', KEYS_SECRET: SECRET }).names, [
    'COOKIE_KEYS',
    'SMTP_URL',
  ]);
});

test('production refuses the public development secret as KEYS_SECRET or as any of the COOKIE_KEYS, naming each', (t) => {
  const DEVELOPMENT_SECRET = loadConfig({}).keysSecret;
  const both = refusal({
    ...PRODUCTION,
    KEYS_SECRET: DEVELOPMENT_SECRET,
    COOKIE_KEYS: `${SECRET},${DEVELOPMENT_SECRET}`,
  });
  t.deepEqual(both.names, ['COOKIE_KEYS', 'KEYS_SECRET']);
  t.regex(String(both.error), /KEYS_SECRET: is the public development secret/);
  t.deepEqual(refusal({ ...PRODUCTION, KEYS_SECRET: SECRET, COOKIE_KEYS: DEVELOPMENT_SECRET }).names, ['COOKIE_KEYS']);
  t.notThrows(() => loadConfig({ ...PRODUCTION, KEYS_SECRET: SECRET, COOKIE_KEYS: SECRET }));
  t.is(
    loadConfig({ NODE_ENV: 'test', KEYS_SECRET: DEVELOPMENT_SECRET }).keysSecret,
    DEVELOPMENT_SECRET,
    'outside production it is fine',
  );
});

test('production must use an https issuer, and then starts from a complete environment', (t) => {
  const complete = {
    NODE_ENV: 'production',
    KEYS_SECRET: SECRET,
    COOKIE_KEYS: `${SECRET}, ${'b'.repeat(32)}`,
    SMTP_URL: 'smtp://mail.example.com:587',
  };
  t.deepEqual(refusal({ ...complete, ISSUER: 'http://id.example.com' }).names, ['ISSUER']);
  t.deepEqual(refusal(complete).names, ['ISSUER']);

  const config = loadConfig({ ...complete, ISSUER: 'https://id.example.com' });
  t.true(config.production);
  t.is(config.issuer, 'https://id.example.com');
  t.is(config.keysSecret, SECRET);
  t.deepEqual(config.cookieKeys, [SECRET, 'b'.repeat(32)]);
  t.deepEqual(config.smtp, { url: 'smtp://mail.example.com:587', timeoutMs: 5000 });
  t.false(config.demoClient, 'the demo client never exists in production');
});

test('with nothing set, the defaults run one local development instance', (t) => {
  const config = loadConfig({});
  t.is(config.env, 'development');
  t.false(config.production);
  t.is(config.port, 3000);
  t.is(config.host, '0.0.0.0');
  t.is(config.issuer, 'http://localhost:3000');
  t.false(config.trustProxy);
  t.deepEqual(config.database, { dataDir: '.data' });
  t.deepEqual(config.redis, { prefix: 'fairyid:' });
  t.is(config.smtp, undefined, 'codes go to the development outbox');
  t.true(config.keysSecret.length >= 32);
  t.true(config.cookieKeys.length > 0 && config.cookieKeys.every((key) => key.length >= 32));
  t.deepEqual(config.otp, { ttl: 600, maxAttempts: 5, resendSeconds: 30 });
  t.deepEqual(config.ttl, {
    accessToken: 3600,
    idToken: 3600,
    refreshToken: 14 * 24 * 3600,
    session: 14 * 24 * 3600,
    interaction: 3600,
    deviceCode: 600,
  });
  t.true(config.demoClient);
  t.is(config.logLevel, 'info');
  t.true(Object.isFrozen(config) && Object.isFrozen(config.otp) && Object.isFrozen(config.ttl));
});

test('an empty value means unset, and the issuer follows PORT unless ISSUER is given', (t) => {
  t.is(loadConfig({ PORT: '', ISSUER: '', DATABASE_URL: '' }).port, 3000);
  t.is(loadConfig({ PORT: '4000' }).issuer, 'http://localhost:4000');
  t.is(loadConfig({ PORT: '4000', ISSUER: 'https://id.example.com' }).issuer, 'https://id.example.com');
  const urls = loadConfig({
    DATABASE_URL: 'postgres://db/fairyid',
    REDIS_URL: 'redis://cache:6379',
    REDIS_PREFIX: 'x:',
  });
  t.deepEqual(urls.database, {
    url: 'postgres://db/fairyid',
    poolSize: 10,
    poolWaitMs: 10_000,
    preparedStatements: true,
  });
  t.like(loadConfig({ DATABASE_URL: 'postgres://db/fairyid', DATABASE_PREPARED_STATEMENTS: 'false' }).database, {
    preparedStatements: false,
  });
  t.like(
    loadConfig({ DATABASE_URL: 'postgres://db/fairyid', DATABASE_POOL_SIZE: '40', DATABASE_POOL_WAIT_MS: '2000' })
      .database,
    { poolSize: 40, poolWaitMs: 2000 },
  );
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://db/fairyid', DATABASE_POOL_SIZE: '0' }), {
    message: /DATABASE_POOL_SIZE/,
  });
  t.like(urls.redis, { url: 'redis://cache:6379', prefix: 'x:' });
  t.false(loadConfig({ NODE_ENV: 'test' }).demoClient, 'tests register their own clients');
});

test('the server refuses to start on a malformed variable, naming it, without a stack trace', async (t) => {
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ['src/main.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          PORT: 'abc',
          DATA_DIR: 'memory://',
          LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, output }));
    },
  );
  t.is(result.signal, null, 'it exited by itself rather than being killed at the timeout');
  t.not(result.code, 0);
  t.regex(result.output, /^ {2}PORT: /m);
  t.notRegex(result.output, /^\s+at /m);
  t.false(result.output.includes('FairyID is running'));
});
