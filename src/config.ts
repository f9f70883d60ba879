import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { required } from './shared/required.ts';

const DEVELOPMENT_SECRET = 'fairyid-development-only-secret-do-not-use-in-production';
const PUBLIC_SECRET =
  'is the public development secret; production needs a secret of its own (e.g. openssl rand -base64 48)';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * A comma-separated catalog of colon-separated entries (`small:100:500:usd,...`): each entry must
 * match `format` and `build` must accept it, and ids are unique, or the variable is refused.
 */
function catalog<T extends { id: string }>(
  format: RegExp,
  shape: string,
  build: (fields: string[]) => T | undefined,
  options = { required: false },
) {
  return z.string().transform((value, issues) => {
    const entries: T[] = [];
    const items = value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    for (const item of items) {
      const entry = format.test(item) ? build(item.split(':')) : undefined;
      if (!entry) issues.addIssue({ code: 'custom', message: `"${item}" is not ${shape}` });
      else if (entries.some((other) => other.id === entry.id))
        issues.addIssue({ code: 'custom', message: `"${entry.id}" is listed twice` });
      else entries.push(entry);
    }
    if (options.required && items.length === 0)
      issues.addIssue({ code: 'custom', message: `must list at least one ${shape}` });
    return entries;
  });
}

const CATALOG_ID = '[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?';
const dustPacks = catalog<DustPack>(
  new RegExp(`^${CATALOG_ID}:\\d{1,7}:\\d{1,9}:[A-Za-z]{3}$`),
  'id:dust:price-in-cents:currency (e.g. small:100:500:usd)',
  // The pattern above guarantees all four parts.
  ([id = '', dust, cents, currency = '']) =>
    Number(dust) > 0 && Number(cents) > 0
      ? { id, dust: Number(dust), priceCents: Number(cents), currency: currency.toLowerCase() }
      : undefined,
  { required: true },
);
// `free` names the plan of organizations without a subscription, so no paid plan may take it.
const plans = catalog<PlanOffer>(
  new RegExp(`^${CATALOG_ID}:[A-Za-z0-9_]{1,255}:\\d{1,6}$`),
  'id:stripe-price-id:environment-limit (e.g. team:price_123:10)',
  ([id = '', priceId = '', environments]) =>
    id === 'free' ? undefined : { id, priceId, environments: Number(environments) },
);

/** The fixed tiers; only their DUST prices are configuration. */
export const TIERS = ['free', 'starter', 'pro'] as const;
export type Tier = (typeof TIERS)[number];
const environmentPrices = catalog<{ id: string; dust: number }>(
  new RegExp(`^${CATALOG_ID}:\\d{1,6}$`),
  'tier:dust-per-hour (e.g. free:1)',
  ([id, dust]) => (id && (TIERS as readonly string[]).includes(id) ? { id, dust: Number(dust) } : undefined),
  { required: true },
).refine((entries) => TIERS.every((tier) => entries.some((entry) => entry.id === tier)), {
  message: `must price every tier: ${TIERS.join(', ')}`,
});

/** `count/seconds`: at most `count` events in a window of `seconds` (e.g. `10/3600`). */
const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, issues) => {
      const match = /^(\d{1,7})\/(\d{1,7})$/.exec(value.trim());
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        issues.addIssue({ code: 'custom', message: 'must be count/seconds with both at least 1, e.g. 10/3600' });
        return z.NEVER;
      }
      return Object.freeze({ max: Number(match[1]), windowSeconds: Number(match[2]) });
    });

/** Built-in upstream providers, whose ids a generic provider may not take. */
const PRESET_PROVIDERS = ['google', 'microsoft', 'apple', 'github', 'facebook'];

/**
 * An upstream issuer: https, or plain http on a loopback address (a provider started by the tests,
 * or run next to a development server); production refuses the latter separately.
 */
const upstreamIssuer = z
  .url({ protocol: /^https?$/ })
  .refine((value) => !value.includes('?') && !value.includes('#'), { message: 'must not have a query or fragment' })
  .refine((value) => value.startsWith('https://') || isLoopback(new URL(value).hostname), {
    message: 'must use https (plain http only on a loopback address)',
  });

const isHttps = (value: string) => value.startsWith('https://');
const HTTPS_IN_PRODUCTION = 'must use https when NODE_ENV=production';

/**
 * Apple's client-secret signing key (a .p8 file's PKCS #8 PEM, as Apple hands it out): an EC P-256
 * private key, as ES256 needs. `\n` escapes are accepted, for environments that hold one line.
 */
const applePrivateKey = z.string().transform((value, issues) => {
  const pem = value.includes('\\n') ? value.replaceAll('\\n', '\n') : value;
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return pem;
  } catch {
    // Reported below, without echoing what was given.
  }
  issues.addIssue({ code: 'custom', message: 'must be an EC P-256 private key in PEM (the .p8 file Apple gives)' });
  return z.NEVER;
});

/** Apple's ten-character identifiers (team and key ids). */
const appleId = z.string().regex(/^[A-Z0-9]{10}$/, 'must be the ten letters and digits Apple shows');

function isLoopback(hostname: string) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    ISSUER: z
      .url({ protocol: /^https?$/ })
      .optional()
      .refine(
        (value) => value === undefined || (!value.endsWith('/') && !value.includes('?') && !value.includes('#')),
        {
          message: 'must be an http(s) URL without a trailing slash, query or fragment',
        },
      ),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    TRUST_PROXY: boolean(false),
    // Unset, one proxy: the usual single TLS-terminating balancer. More hops than that are told explicitly.
    TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).optional(),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
    // How long a request waits for a free connection before it is answered 503 with Retry-After.
    DATABASE_POOL_WAIT_MS: z.coerce.number().int().min(10).max(120_000).default(10_000),
    // Off for a PgBouncer in transaction mode older than 1.21 (or with max_prepared_statements = 0).
    DATABASE_PREPARED_STATEMENTS: boolean(true),
    DATA_DIR: z.string().min(1).default('.data'),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    REDIS_PREFIX: z
      .string()
      .min(1)
      .default('fairyid:')
      .refine((value) => !/[{}]/.test(value), {
        message: 'must not contain { or } (they would become a cluster hash tag)',
      }),
    REDIS_CLUSTER: boolean(false),
    // Several secrets, comma-separated and newest first, while rotating: the newest seals, all open.
    KEYS_SECRET: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((secret) => secret.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.string().min(32, 'must be at least 32 characters (each, when several are listed)'))
          .min(1)
          .refine((secrets) => new Set(secrets).size === secrets.length, { message: 'lists a secret twice' }),
      )
      .optional(),
    COOKIE_KEYS: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((key) => key.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1))
      .optional(),
    KEYS_REFRESH_SECONDS: seconds(5),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    SMTP_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
    MAIL_FROM: z.string().min(3).default('FairyID <no-reply@fairyid.localhost>'),
    ACCESS_TOKEN_TTL: seconds(3600),
    ID_TOKEN_TTL: seconds(3600),
    REFRESH_TOKEN_TTL: seconds(14 * 24 * 3600),
    // A few seconds cover a refresh whose answer was lost; a long window would blunt reuse detection.
    REFRESH_TOKEN_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
    SESSION_TTL: seconds(14 * 24 * 3600),
    INTERACTION_TTL: seconds(3600),
    DEVICE_CODE_TTL: seconds(600),
    OTP_TTL: seconds(600),
    OTP_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
    OTP_RESEND_SECONDS: seconds(30),
    LIMIT_SENDS_PER_RECIPIENT: rate('10/3600'),
    LIMIT_SENDS_PER_IP: rate('30/3600'),
    LIMIT_SENDS_PER_ACCOUNT: rate('20/3600'),
    LIMIT_CHECKS_PER_RECIPIENT: rate('30/3600'),
    LIMIT_CHECKS_PER_IP: rate('100/3600'),
    LIMIT_CHECKS_PER_ACCOUNT: rate('30/3600'),
    LOCKOUT_AFTER_FAILURES: rate('10/900'),
    LOCKOUT_SECONDS: seconds(900),
    LIMIT_DEVICE_CODE_GUESSES_PER_IP: rate('10/900'),
    TWILIO_ACCOUNT_SID: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must be a Twilio account SID (AC followed by 32 hex digits)')
      .optional(),
    TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
    TWILIO_FROM: z
      .string()
      .regex(
        /^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/,
        'must be an E.164 number (+15551234567) or a Messaging Service SID (MG...)',
      )
      .optional(),
    // Like STRIPE_API_URL: a stand-in for tests, or a regional gateway.
    TWILIO_API_URL: z
      .url({ protocol: /^https?$/ })
      .refine((value) => new URL(value).pathname === '/' && !value.includes('?') && !value.includes('#'), {
        message: 'must be an http(s) origin such as http://127.0.0.1:12112, without a path or query',
      })
      .optional(),
    BACKCHANNEL_PRIVATE_NETWORKS: boolean(false),
    // Events (src/events/): how long dispatched outbox rows and finished deliveries are kept, and how
    // often each instance looks for work.
    EVENTS_RETENTION_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 365)
      .default(168),
    EVENTS_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(1000),
    WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(30).default(5),
    // The wait before each retry; the default spreads ten attempts over about three days.
    WEBHOOK_RETRY_SCHEDULE: z
      .string()
      .default('5s,1m,5m,30m,2h,6h,12h,24h,24h')
      .transform((list, issues) => {
        const delays = list.split(',').map((item) => parseDelay(item.trim()));
        if (delays.some((delay) => delay === undefined) || delays.length > 30) {
          issues.addIssue({ code: 'custom', message: 'must be up to 30 durations such as 5s,1m,2h,1d' });
          return z.NEVER;
        }
        return delays as number[];
      }),
    WEBHOOK_DISABLE_AFTER: z.coerce.number().int().min(1).max(1000).default(20),
    // Unset: loopback, private and link-local webhook URLs are allowed in development only (SSRF).
    WEBHOOK_PRIVATE_NETWORKS: z
      .enum(['true', 'false', '1', '0'])
      .transform((value) => value === 'true' || value === '1')
      .optional(),
    NATS_URL: z
      .string()
      .regex(/^(nats|tls):\/\/[^\s]+$/, 'must be a nats:// or tls:// URL such as nats://127.0.0.1:4222')
      .optional(),
    NATS_STREAM: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ and -')
      .default('FAIRYID_EVENTS'),
    NATS_SUBJECT_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated tokens such as fairyid.events')
      .default('fairyid.events'),
    DEMO_CLIENT: boolean(true),
    // Unset: on outside production, off in production (see apiResponseChecks).
    API_RESPONSE_CHECKS: z.enum(['true', 'false', '1', '0']).optional(),
    FAIRY_CLI_CLIENT: boolean(true),
    PLATFORM_OWNER_EMAIL: z
      .email()
      .transform((value) => value.toLowerCase())
      .optional(),
    ORG_APPROVAL: z.enum(['manual', 'auto']).default('manual'),
    // OAuth clients a builder may register for themselves (src/builders/); 0 offers none.
    BUILDER_CLIENTS_PER_PERSON: z.coerce.number().int().min(0).max(1000).default(10),
    // Browser origins allowed to call /api and the token endpoints besides those of registered redirect URIs.
    CORS_ORIGINS: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z.url({ protocol: /^https?$/ }).refine((value) => new URL(value).origin === value, {
            message: 'each entry must be an origin: scheme, host and port only (https://app.example.com)',
          }),
        ),
      )
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // /metrics: behind this bearer token on the main port, or alone on METRICS_PORT; neither set, not served.
    METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_\w+$/, 'must be a Stripe secret or restricted key (sk_... or rk_...)')
      .optional(),
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_\w+$/, 'must be a webhook signing secret (whsec_...)')
      .optional(),
    // The client takes a host, port and protocol, not a base URL, so a path or query could not be honoured.
    STRIPE_API_URL: z
      .url({ protocol: /^https?$/ })
      .refine((value) => new URL(value).pathname === '/' && !value.includes('?') && !value.includes('#'), {
        message: 'must be an http(s) origin such as http://127.0.0.1:12111, without a path or query',
      })
      .optional(),
    DUST_PACKS: dustPacks.prefault('small:100:500:usd,large:1000:4000:usd'),
    STRIPE_PLANS: plans.optional(),
    // Environments: `local` (sshd on this machine, development only) or `digitalocean`.
    ENVIRONMENT_DRIVER: z.enum(['local', 'digitalocean']).optional(),
    DO_API_TOKEN: z.string().min(10).optional(),
    DO_API_URL: z
      .url({ protocol: /^https?$/ })
      .refine((value) => !value.endsWith('/') && !value.includes('?') && !value.includes('#'), {
        message: 'must be an http(s) URL without a trailing slash, query or fragment',
      })
      .optional(),
    ENVIRONMENT_PRICES: environmentPrices.prefault('free:1,starter:2,pro:4'),
    ENVIRONMENT_REGIONS: z
      .string()
      .default('ams3,fra1,lon1,nyc3,sfo3,sgp1')
      .transform((value) => value.split(',').map((region) => region.trim()))
      .pipe(z.array(z.string().regex(/^[a-z]{3}\d$/, 'each region must be a slug such as ams3')).min(1)),
    ENVIRONMENTS_PER_PERSON: z.coerce.number().int().min(0).max(1000).default(2),
    ENVIRONMENT_IDLE_MINUTES: z.coerce.number().int().min(5).default(120),
    ENVIRONMENT_IDLE_WARNING_MINUTES: z.coerce.number().int().min(1).default(15),
    ENVIRONMENT_READY_TIMEOUT: seconds(900),
    ENVIRONMENT_PHONE_HOME_GRACE: seconds(120),
    ENVIRONMENT_RECONCILE_MS: z.coerce.number().int().min(20).default(2000),
    TEMPLATES_DIR: z.string().min(1).default('templates'),
    TERMINALS_PER_ENVIRONMENT: z.coerce.number().int().min(1).max(1000).default(4),
    TERMINALS_PER_PERSON: z.coerce.number().int().min(1).max(1000).default(8),
    TERMINAL_IDLE_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
    TERMINAL_RING_KIB: z.coerce.number().int().min(2048).max(65536).default(2048),
    TERMINAL_CHECK_MS: z.coerce.number().int().min(20).max(60_000).default(5000),
    // Upstream identity providers: generic OpenID providers by id (each with FEDERATION_<ID>_* below), and Google.
    FEDERATION_PROVIDERS: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'each id must be lowercase letters, digits and dashes')
              .refine((id) => !PRESET_PROVIDERS.includes(id), { message: 'names a built-in provider' }),
          )
          .refine((ids) => new Set(ids).size === ids.length, { message: 'lists an id twice' }),
      )
      .optional(),
    // Seconds; an upstream that takes longer (discovery, token, userinfo, keys) is reported as unavailable.
    FEDERATION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(5),
    GOOGLE_CLIENT_ID: z.string().min(1).optional(),
    GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
    GOOGLE_ISSUER_URL: upstreamIssuer.optional(),
    // Ask Google for a refresh token (access_type=offline), so apps can get fresh provider tokens.
    GOOGLE_OFFLINE_ACCESS: boolean(false),
    GITHUB_CLIENT_ID: z.string().min(1).optional(),
    GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
    // GitHub signs people in on github.com and answers its API on api.github.com: a stand-in overrides both.
    GITHUB_URL: upstreamIssuer.optional(),
    GITHUB_API_URL: upstreamIssuer.optional(),
    FACEBOOK_CLIENT_ID: z.string().min(1).optional(),
    FACEBOOK_CLIENT_SECRET: z.string().min(1).optional(),
    // Facebook signs people in on www.facebook.com and answers on graph.facebook.com: a stand-in overrides both.
    FACEBOOK_URL: upstreamIssuer.optional(),
    FACEBOOK_API_URL: upstreamIssuer.optional(),
    MICROSOFT_CLIENT_ID: z.string().min(1).optional(),
    MICROSOFT_CLIENT_SECRET: z.string().min(1).optional(),
    // `common` (work, school and personal accounts), `organizations`, `consumers`, or one tenant's id or domain.
    MICROSOFT_TENANT: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/, 'must be common, organizations, consumers, or a tenant id or domain')
      .default('common'),
    // Microsoft's sign-in host (login.microsoftonline.com): a stand-in overrides it.
    MICROSOFT_URL: upstreamIssuer.optional(),
    // Sign in with Apple: the Services ID, and the key that signs the client secret (a JWT) for each token request.
    APPLE_CLIENT_ID: z.string().min(1).optional(),
    APPLE_TEAM_ID: appleId.optional(),
    APPLE_KEY_ID: appleId.optional(),
    APPLE_PRIVATE_KEY: applePrivateKey.optional(),
    APPLE_PRIVATE_KEY_FILE: z
      .string()
      .transform((path, issues) => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          issues.addIssue({ code: 'custom', message: `cannot be read (${path})` });
          return z.NEVER;
        }
      })
      .pipe(applePrivateKey)
      .optional(),
    // Apple's sign-in host (appleid.apple.com): a stand-in overrides it.
    APPLE_URL: upstreamIssuer.optional(),
  })
  .superRefine((env, issues) => {
    if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
      // Without it no webhook could be verified, so paid checkouts would never be credited.
      issues.addIssue({
        code: 'custom',
        path: ['STRIPE_WEBHOOK_SECRET'],
        message: 'is required when STRIPE_SECRET_KEY is set',
      });
    }
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM];
    if (twilio.some(Boolean) && !twilio.every(Boolean)) {
      issues.addIssue({
        code: 'custom',
        path: ['TWILIO_ACCOUNT_SID'],
        message: 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM go together',
      });
    }
    if (Boolean(env.FACEBOOK_CLIENT_ID) !== Boolean(env.FACEBOOK_CLIENT_SECRET)) {
      issues.addIssue({
        code: 'custom',
        path: ['FACEBOOK_CLIENT_ID'],
        message: 'FACEBOOK_CLIENT_ID and FACEBOOK_CLIENT_SECRET go together',
      });
    }
    if (Boolean(env.GITHUB_CLIENT_ID) !== Boolean(env.GITHUB_CLIENT_SECRET)) {
      issues.addIssue({
        code: 'custom',
        path: ['GITHUB_CLIENT_ID'],
        message: 'GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET go together',
      });
    }
    if (Boolean(env.MICROSOFT_CLIENT_ID) !== Boolean(env.MICROSOFT_CLIENT_SECRET)) {
      issues.addIssue({
        code: 'custom',
        path: ['MICROSOFT_CLIENT_ID'],
        message: 'MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET go together',
      });
    }
    const appleKey = env.APPLE_PRIVATE_KEY ?? env.APPLE_PRIVATE_KEY_FILE;
    const apple = [env.APPLE_CLIENT_ID, env.APPLE_TEAM_ID, env.APPLE_KEY_ID, appleKey];
    if (apple.some(Boolean) && !apple.every(Boolean)) {
      issues.addIssue({
        code: 'custom',
        path: ['APPLE_CLIENT_ID'],
        message:
          'APPLE_CLIENT_ID, APPLE_TEAM_ID, APPLE_KEY_ID and APPLE_PRIVATE_KEY (or APPLE_PRIVATE_KEY_FILE) go together',
      });
    }
    if (env.APPLE_PRIVATE_KEY && env.APPLE_PRIVATE_KEY_FILE) {
      issues.addIssue({
        code: 'custom',
        path: ['APPLE_PRIVATE_KEY_FILE'],
        message: 'give APPLE_PRIVATE_KEY or APPLE_PRIVATE_KEY_FILE, not both',
      });
    }
    if (Boolean(env.GOOGLE_CLIENT_ID) !== Boolean(env.GOOGLE_CLIENT_SECRET)) {
      issues.addIssue({
        code: 'custom',
        path: ['GOOGLE_CLIENT_ID'],
        message: 'GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together',
      });
    }
    if (env.TRUSTED_PROXY_HOPS !== undefined && !env.TRUST_PROXY) {
      // Hops without trust would be ignored silently; the operator surely meant TRUST_PROXY=true too.
      issues.addIssue({ code: 'custom', path: ['TRUSTED_PROXY_HOPS'], message: 'needs TRUST_PROXY=true' });
    }
    if (env.ENVIRONMENT_DRIVER === 'digitalocean' && !env.DO_API_TOKEN) {
      issues.addIssue({
        code: 'custom',
        path: ['DO_API_TOKEN'],
        message: 'is required with ENVIRONMENT_DRIVER=digitalocean',
      });
    }
    if (env.NODE_ENV === 'production' && env.ENVIRONMENT_DRIVER === 'local') {
      // The local driver runs sshd on the server itself: never a production machine's business.
      issues.addIssue({
        code: 'custom',
        path: ['ENVIRONMENT_DRIVER'],
        message: 'local is for development only; use digitalocean (with DO_API_TOKEN) when NODE_ENV=production',
      });
    }
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT === env.PORT) {
      issues.addIssue({ code: 'custom', path: ['METRICS_PORT'], message: 'must differ from PORT' });
    }
    if (env.ENVIRONMENT_IDLE_WARNING_MINUTES >= env.ENVIRONMENT_IDLE_MINUTES) {
      issues.addIssue({
        code: 'custom',
        path: ['ENVIRONMENT_IDLE_WARNING_MINUTES'],
        message: 'must be shorter than ENVIRONMENT_IDLE_MINUTES',
      });
    }
    if (env.NODE_ENV !== 'production') return;
    // Development fallbacks are public knowledge; production must bring its own secrets.
    for (const name of ['KEYS_SECRET', 'COOKIE_KEYS', 'SMTP_URL'] as const) {
      if (env[name] === undefined) {
        issues.addIssue({ code: 'custom', path: [name], message: 'is required when NODE_ENV=production' });
      }
    }
    // The development fallback is in this public source: as a production secret it would let anyone
    // decrypt the signing keys and forge cookies.
    if (env.KEYS_SECRET?.includes(DEVELOPMENT_SECRET)) {
      issues.addIssue({ code: 'custom', path: ['KEYS_SECRET'], message: PUBLIC_SECRET });
    }
    if (env.COOKIE_KEYS?.includes(DEVELOPMENT_SECRET)) {
      issues.addIssue({ code: 'custom', path: ['COOKIE_KEYS'], message: PUBLIC_SECRET });
    }
    for (const name of [
      'GOOGLE_ISSUER_URL',
      'GITHUB_URL',
      'GITHUB_API_URL',
      'FACEBOOK_URL',
      'FACEBOOK_API_URL',
      'MICROSOFT_URL',
      'APPLE_URL',
    ] as const) {
      const value = env[name];
      if (value && !isHttps(value)) issues.addIssue({ code: 'custom', path: [name], message: HTTPS_IN_PRODUCTION });
    }
    if (!env.ISSUER?.startsWith('https://')) {
      issues.addIssue({ code: 'custom', path: ['ISSUER'], message: 'must use https when NODE_ENV=production' });
    }
  });

/** One upstream identity provider people may sign in with (see src/federation/). */
export type UpstreamProviderSettings = Readonly<{
  /** In URLs and in linked identities: `google`, or a generic provider's id from FEDERATION_PROVIDERS. */
  id: string;
  /** On the "Continue with …" button. */
  name: string;
  kind: 'oidc' | 'google' | 'microsoft' | 'apple' | 'github' | 'facebook';
  /**
   * The OpenID issuer; for GitHub, which has none, the site that signs people in (github.com); for
   * Microsoft, its sign-in host and tenant (`https://login.microsoftonline.com/common/v2.0`), whose
   * discovery may name a template issuer (`…/{tenantid}/v2.0`).
   */
  issuer: string;
  /** GitHub's REST API (api.github.com) or Facebook's Graph API, where the person is read. */
  apiUrl?: string;
  clientId: string;
  /** Empty for Apple, whose client secret is a JWT signed with `appleKey` for each token request. */
  clientSecret: string;
  /** Apple's client-secret signing key: the team, the key's id and the PEM private key (ES256). */
  appleKey?: Readonly<{ teamId: string; keyId: string; privateKeyPem: string }>;
  /**
   * Whether the provider's `email_verified: true` is proof enough to link to an existing account
   * with that address. Never for a generic provider added by issuer URL.
   */
  trustsEmail: boolean;
  /**
   * Whether sign-ins ask the upstream for a refresh token (offline_access, or Google's
   * access_type=offline), so the provider tokens kept for apps can be refreshed.
   */
  offlineAccess?: boolean;
}>;

/** At most `max` events per `windowSeconds`. */
export type Rate = Readonly<{ max: number; windowSeconds: number }>;

/** A DUST pack people can buy: `dust` for `priceCents` in `currency` (lowercase ISO 4217). */
export type DustPack = Readonly<{ id: string; dust: number; priceCents: number; currency: string }>;
/** An organization plan: a recurring Stripe price and what it allows. */
export type PlanOffer = Readonly<{ id: string; priceId: string; environments: number }>;

export type Config = Readonly<{
  env: 'development' | 'production' | 'test';
  production: boolean;
  issuer: string;
  host: string;
  port: number;
  trustProxy: boolean;
  /**
   * How many proxies in front of us append to X-Forwarded-For: the client address is the entry the
   * outermost of them wrote, that many from the right (0 without TRUST_PROXY: the socket's peer).
   */
  trustedProxyHops: number;
  database: { url: string; poolSize: number; poolWaitMs: number; preparedStatements: boolean } | { dataDir: string };
  redis: { url: string; prefix: string; cluster: boolean } | { prefix: string };
  /** The newest of `keysSecrets`: what seals and keys anything new. */
  keysSecret: string;
  /**
   * KEYS_SECRET's secrets, newest first. Sealed values open under any of them (shared/sealed-box.ts),
   * so a new secret can be put in front while values sealed under the old ones stay readable.
   */
  keysSecrets: readonly string[];
  cookieKeys: string[];
  keysRefreshSeconds: number;
  smtp: { url: string; timeoutMs: number } | undefined;
  mailFrom: string;
  ttl: Readonly<{
    accessToken: number;
    idToken: number;
    refreshToken: number;
    session: number;
    interaction: number;
    deviceCode: number;
  }>;
  /**
   * How long after a rotation the rotated refresh token may be presented once more by its client and
   * answered with its successor (see oidc/refresh-grace.ts); 0 revokes the grant on any reuse.
   */
  refreshTokenReuseGraceSeconds: number;
  otp: Readonly<{ ttl: number; maxAttempts: number; resendSeconds: number }>;
  /** Abuse controls on every path that sends or checks a code; shared through Redis. */
  limits: Readonly<{
    sendsPerRecipient: Rate;
    sendsPerIp: Rate;
    sendsPerAccount: Rate;
    checksPerRecipient: Rate;
    checksPerIp: Rate;
    checksPerAccount: Rate;
    lockoutAfterFailures: Rate;
    lockoutSeconds: number;
    deviceCodeGuessesPerIp: Rate;
  }>;
  /** Unset without Twilio settings: then development keeps texts in the outbox and production offers no SMS. */
  twilio: Readonly<{ accountSid: string; authToken: string; from: string; apiUrl: string | undefined }> | undefined;
  /** Lets back-channel logout reach relying parties on loopback and private addresses. */
  backchannelPrivateNetworks: boolean;
  demoClient: boolean;
  /**
   * Whether every /api answer is checked against its declared response schema (http/api-route.ts):
   * a development and test safeguard, off in production unless API_RESPONSE_CHECKS turns it on; the
   * bench turns it off to measure what production runs.
   */
  apiResponseChecks: boolean;
  /** Whether the `fairy-cli` public client exists (see oidc/cli-client.ts). */
  cliClient: boolean;
  platformOwnerEmail: string | undefined;
  organizationApproval: 'manual' | 'auto';
  /** How many OAuth clients each builder may register for themselves. */
  builderClientsPerPerson: number;
  /** Origins allowed cross-origin requests besides those of registered clients' redirect URIs. */
  corsOrigins: readonly string[];
  logLevel: string;
  /**
   * Prometheus metrics: `port` set, /metrics is served there alone (and not on the main port), with
   * the token too when one is set; otherwise on the main port behind `token`; neither, not at all.
   */
  metrics: Readonly<{ token: string | undefined; port: number | undefined }>;
  /** Unset without STRIPE_SECRET_KEY: then there is no checkout and no webhook. */
  stripe: Readonly<{ secretKey: string; webhookSecret: string; apiUrl: string | undefined }> | undefined;
  dustPacks: readonly DustPack[];
  plans: readonly PlanOffer[];
  environments: EnvironmentSettings;
  terminal: TerminalSettings;
  federation: Readonly<{ providers: readonly UpstreamProviderSettings[]; timeoutSeconds: number }>;
  events: EventSettings;
}>;

export type TerminalSettings = Readonly<{
  /** Open terminal sessions per environment and per person, counted on each instance. */
  perEnvironment: number;
  perPerson: number;
  idleMinutes: number;
  /** Output kept per session for lossless reconnects (at least 2 MiB). */
  ringBytes: number;
  /** How often open terminals re-check that the environment runs and the grant stands. */
  checkMs: number;
}>;

export type EnvironmentSettings = Readonly<{
  /** `none` in production without DO_API_TOKEN: environments are then not offered. */
  driver: Readonly<
    { kind: 'local'; dataDir: string } | { kind: 'digitalocean'; token: string; apiUrl: string } | { kind: 'none' }
  >;
  /** DUST per started hour of a running environment, by tier; stopped ones cost nothing. */
  prices: Readonly<Record<Tier, number>>;
  regions: readonly string[];
  perPersonLimit: number;
  idleMinutes: number;
  idleWarningMinutes: number;
  readyTimeoutSeconds: number;
  phoneHomeGraceSeconds: number;
  reconcileIntervalMs: number;
  templatesDir: string;
}>;

export type EventSettings = Readonly<{
  retentionHours: number;
  pollMs: number;
  webhooks: Readonly<{
    timeoutMs: number;
    /** Milliseconds before each retry; a delivery fails for good after the last one. */
    retryScheduleMs: readonly number[];
    disableAfter: number;
    /** Whether URLs may reach loopback, private and link-local addresses (SSRF). */
    privateNetworks: boolean;
  }>;
  /** Set when every event is also published to NATS JetStream. */
  nats: Readonly<{ url: string; stream: string; subjectPrefix: string }> | undefined;
}>;

const DELAY_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `5s`, `1m`, `2h`, `1d` (or `250ms`) in milliseconds; undefined when it is none of those. */
function parseDelay(value: string): number | undefined {
  const match = /^(\d{1,6})(ms|s|m|h|d)$/.exec(value);
  return match ? Number(match[1]) * (DELAY_UNITS[match[2] as string] as number) : undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; every other module receives the frozen result. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = withoutEmptyValues(env);
  const parsed = schema.safeParse(present);
  // Each generic provider's own variables, named after its id: checked in the same pass, so every
  // bad variable is reported at once.
  const upstream = genericProviderSchema(present.FEDERATION_PROVIDERS, present.NODE_ENV === 'production').safeParse(
    present,
  );
  const issues = [...(parsed.error?.issues ?? []), ...(upstream.error?.issues ?? [])];
  if (!parsed.success || !upstream.success) {
    const lines = issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    production: e.NODE_ENV === 'production',
    // Unset, the issuer is this machine on PORT, so `PORT=4000 npm start` just works locally.
    issuer: e.ISSUER ?? `http://localhost:${e.PORT}`,
    host: e.HOST,
    port: e.PORT,
    trustProxy: e.TRUST_PROXY,
    trustedProxyHops: e.TRUST_PROXY ? (e.TRUSTED_PROXY_HOPS ?? 1) : 0,
    database: e.DATABASE_URL
      ? {
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          poolWaitMs: e.DATABASE_POOL_WAIT_MS,
          preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
        }
      : { dataDir: e.DATA_DIR },
    redis: e.REDIS_URL
      ? { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, cluster: e.REDIS_CLUSTER }
      : { prefix: e.REDIS_PREFIX },
    keysSecret: e.KEYS_SECRET?.[0] ?? DEVELOPMENT_SECRET,
    keysSecrets: Object.freeze(e.KEYS_SECRET ?? [DEVELOPMENT_SECRET]),
    cookieKeys: e.COOKIE_KEYS ?? [DEVELOPMENT_SECRET],
    keysRefreshSeconds: e.KEYS_REFRESH_SECONDS,
    smtp: e.SMTP_URL ? { url: e.SMTP_URL, timeoutMs: e.SMTP_TIMEOUT_MS } : undefined,
    mailFrom: e.MAIL_FROM,
    ttl: Object.freeze({
      accessToken: e.ACCESS_TOKEN_TTL,
      idToken: e.ID_TOKEN_TTL,
      refreshToken: e.REFRESH_TOKEN_TTL,
      session: e.SESSION_TTL,
      interaction: e.INTERACTION_TTL,
      deviceCode: e.DEVICE_CODE_TTL,
    }),
    refreshTokenReuseGraceSeconds: e.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
    otp: Object.freeze({
      ttl: e.OTP_TTL,
      maxAttempts: e.OTP_MAX_ATTEMPTS,
      resendSeconds: e.OTP_RESEND_SECONDS,
    }),
    limits: Object.freeze({
      sendsPerRecipient: e.LIMIT_SENDS_PER_RECIPIENT,
      sendsPerIp: e.LIMIT_SENDS_PER_IP,
      sendsPerAccount: e.LIMIT_SENDS_PER_ACCOUNT,
      checksPerRecipient: e.LIMIT_CHECKS_PER_RECIPIENT,
      checksPerIp: e.LIMIT_CHECKS_PER_IP,
      checksPerAccount: e.LIMIT_CHECKS_PER_ACCOUNT,
      lockoutAfterFailures: e.LOCKOUT_AFTER_FAILURES,
      lockoutSeconds: e.LOCKOUT_SECONDS,
      deviceCodeGuessesPerIp: e.LIMIT_DEVICE_CODE_GUESSES_PER_IP,
    }),
    // The schema refuses one Twilio variable without the others, and a Stripe key without its secret.
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_FROM
        ? Object.freeze({
            accountSid: e.TWILIO_ACCOUNT_SID,
            authToken: e.TWILIO_AUTH_TOKEN,
            from: e.TWILIO_FROM,
            apiUrl: e.TWILIO_API_URL,
          })
        : undefined,
    backchannelPrivateNetworks: e.BACKCHANNEL_PRIVATE_NETWORKS,
    demoClient: e.DEMO_CLIENT && e.NODE_ENV === 'development',
    apiResponseChecks:
      e.API_RESPONSE_CHECKS === undefined
        ? e.NODE_ENV !== 'production'
        : e.API_RESPONSE_CHECKS === 'true' || e.API_RESPONSE_CHECKS === '1',
    cliClient: e.FAIRY_CLI_CLIENT,
    platformOwnerEmail: e.PLATFORM_OWNER_EMAIL,
    organizationApproval: e.ORG_APPROVAL,
    builderClientsPerPerson: e.BUILDER_CLIENTS_PER_PERSON,
    corsOrigins: Object.freeze(e.CORS_ORIGINS ?? []),
    logLevel: e.LOG_LEVEL,
    metrics: Object.freeze({ token: e.METRICS_TOKEN, port: e.METRICS_PORT }),
    stripe:
      e.STRIPE_SECRET_KEY && e.STRIPE_WEBHOOK_SECRET
        ? Object.freeze({
            secretKey: e.STRIPE_SECRET_KEY,
            webhookSecret: e.STRIPE_WEBHOOK_SECRET,
            apiUrl: e.STRIPE_API_URL,
          })
        : undefined,
    dustPacks: Object.freeze(e.DUST_PACKS.map((pack) => Object.freeze(pack))),
    plans: Object.freeze((e.STRIPE_PLANS ?? []).map((plan) => Object.freeze(plan))),
    environments: Object.freeze({
      driver: environmentDriver(e),
      prices: Object.freeze(
        Object.fromEntries(e.ENVIRONMENT_PRICES.map((entry) => [entry.id, entry.dust])) as Record<Tier, number>,
      ),
      regions: Object.freeze(e.ENVIRONMENT_REGIONS),
      perPersonLimit: e.ENVIRONMENTS_PER_PERSON,
      idleMinutes: e.ENVIRONMENT_IDLE_MINUTES,
      idleWarningMinutes: e.ENVIRONMENT_IDLE_WARNING_MINUTES,
      readyTimeoutSeconds: e.ENVIRONMENT_READY_TIMEOUT,
      phoneHomeGraceSeconds: e.ENVIRONMENT_PHONE_HOME_GRACE,
      reconcileIntervalMs: e.ENVIRONMENT_RECONCILE_MS,
      templatesDir: e.TEMPLATES_DIR,
    }),
    terminal: Object.freeze({
      perEnvironment: e.TERMINALS_PER_ENVIRONMENT,
      perPerson: e.TERMINALS_PER_PERSON,
      idleMinutes: e.TERMINAL_IDLE_MINUTES,
      ringBytes: e.TERMINAL_RING_KIB * 1024,
      checkMs: e.TERMINAL_CHECK_MS,
    }),
    federation: Object.freeze({
      providers: Object.freeze(upstreamProviders(e, upstream.data)),
      timeoutSeconds: e.FEDERATION_TIMEOUT_SECONDS,
    }),
    events: Object.freeze({
      retentionHours: e.EVENTS_RETENTION_HOURS,
      pollMs: e.EVENTS_POLL_MS,
      webhooks: Object.freeze({
        timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
        retryScheduleMs: Object.freeze([...e.WEBHOOK_RETRY_SCHEDULE]),
        disableAfter: e.WEBHOOK_DISABLE_AFTER,
        privateNetworks: e.WEBHOOK_PRIVATE_NETWORKS ?? e.NODE_ENV === 'development',
      }),
      nats: e.NATS_URL
        ? Object.freeze({ url: e.NATS_URL, stream: e.NATS_STREAM, subjectPrefix: e.NATS_SUBJECT_PREFIX })
        : undefined,
    }),
  });
}

/** `acme` reads FEDERATION_ACME_*; a dash in an id is an underscore in its variables. */
const providerPrefix = (id: string) => `FEDERATION_${id.toUpperCase().replaceAll('-', '_')}_`;

/** The variables of each generic provider listed in FEDERATION_PROVIDERS (ids are checked by the main schema). */
function genericProviderSchema(list: string | undefined, production: boolean) {
  const ids = (list ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => /^[a-z0-9-]+$/.test(id));
  const shape: Record<string, z.ZodType> = {};
  for (const id of ids) {
    const prefix = providerPrefix(id);
    shape[`${prefix}ISSUER`] = production
      ? upstreamIssuer.refine(isHttps, { message: HTTPS_IN_PRODUCTION })
      : upstreamIssuer;
    shape[`${prefix}CLIENT_ID`] = z.string().min(1);
    shape[`${prefix}CLIENT_SECRET`] = z.string().min(1);
    shape[`${prefix}NAME`] = z.string().min(1).max(40).optional();
    shape[`${prefix}OFFLINE_ACCESS`] = boolean(false);
  }
  return z.object(shape);
}

function upstreamProviders(e: z.output<typeof schema>, generic: Record<string, unknown>): UpstreamProviderSettings[] {
  const providers: UpstreamProviderSettings[] = [];
  if (e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET) {
    providers.push({
      id: 'google',
      name: 'Google',
      kind: 'google',
      issuer: e.GOOGLE_ISSUER_URL ?? 'https://accounts.google.com',
      clientId: e.GOOGLE_CLIENT_ID,
      clientSecret: e.GOOGLE_CLIENT_SECRET,
      // Google sets email_verified to true only for an address it has verified with its owner.
      trustsEmail: true,
      offlineAccess: e.GOOGLE_OFFLINE_ACCESS,
    });
  }
  if (e.MICROSOFT_CLIENT_ID && e.MICROSOFT_CLIENT_SECRET) {
    providers.push({
      id: 'microsoft',
      name: 'Microsoft',
      kind: 'microsoft',
      issuer: `${e.MICROSOFT_URL ?? 'https://login.microsoftonline.com'}/${e.MICROSOFT_TENANT}/v2.0`,
      clientId: e.MICROSOFT_CLIENT_ID,
      clientSecret: e.MICROSOFT_CLIENT_SECRET,
      // Microsoft's `email` is whatever a tenant's administrator (or the person) typed: it proves nothing.
      trustsEmail: false,
    });
  }
  const appleKey = e.APPLE_PRIVATE_KEY ?? e.APPLE_PRIVATE_KEY_FILE;
  if (e.APPLE_CLIENT_ID && e.APPLE_TEAM_ID && e.APPLE_KEY_ID && appleKey) {
    providers.push({
      id: 'apple',
      name: 'Apple',
      kind: 'apple',
      issuer: e.APPLE_URL ?? 'https://appleid.apple.com',
      clientId: e.APPLE_CLIENT_ID,
      clientSecret: '',
      appleKey: Object.freeze({ teamId: e.APPLE_TEAM_ID, keyId: e.APPLE_KEY_ID, privateKeyPem: appleKey }),
      // Apple sets email_verified only for an address it verified (a private-relay one is Apple's own).
      trustsEmail: true,
    });
  }
  if (e.GITHUB_CLIENT_ID && e.GITHUB_CLIENT_SECRET) {
    providers.push({
      id: 'github',
      name: 'GitHub',
      kind: 'github',
      issuer: e.GITHUB_URL ?? 'https://github.com',
      apiUrl: e.GITHUB_API_URL ?? 'https://api.github.com',
      clientId: e.GITHUB_CLIENT_ID,
      clientSecret: e.GITHUB_CLIENT_SECRET,
      // Only the primary address GitHub marks verified is used: GitHub verifies it with its owner.
      trustsEmail: true,
    });
  }
  if (e.FACEBOOK_CLIENT_ID && e.FACEBOOK_CLIENT_SECRET) {
    providers.push({
      id: 'facebook',
      name: 'Facebook',
      kind: 'facebook',
      issuer: e.FACEBOOK_URL ?? 'https://www.facebook.com',
      apiUrl: e.FACEBOOK_API_URL ?? 'https://graph.facebook.com',
      clientId: e.FACEBOOK_CLIENT_ID,
      clientSecret: e.FACEBOOK_CLIENT_SECRET,
      // Facebook gives only a confirmed address, but says nothing of how or when it was confirmed: proof first.
      trustsEmail: false,
    });
  }
  for (const id of e.FEDERATION_PROVIDERS ?? []) {
    const prefix = providerPrefix(id);
    providers.push({
      id,
      name: String(generic[`${prefix}NAME`] ?? id),
      kind: 'oidc',
      issuer: String(generic[`${prefix}ISSUER`]),
      clientId: String(generic[`${prefix}CLIENT_ID`]),
      clientSecret: String(generic[`${prefix}CLIENT_SECRET`]),
      trustsEmail: false,
      offlineAccess: generic[`${prefix}OFFLINE_ACCESS`] === true,
    });
  }
  return providers.map((provider) => Object.freeze(provider));
}

function environmentDriver(e: z.output<typeof schema>): EnvironmentSettings['driver'] {
  const kind =
    e.ENVIRONMENT_DRIVER ?? (e.DO_API_TOKEN ? 'digitalocean' : e.NODE_ENV === 'production' ? 'none' : 'local');
  if (kind === 'digitalocean')
    return Object.freeze({
      kind,
      token: required(e.DO_API_TOKEN, 'DO_API_TOKEN'),
      apiUrl: e.DO_API_URL ?? 'https://api.digitalocean.com',
    });
  // In-memory databases (tests) still need a real folder for the machines' home directories.
  if (kind === 'local') return Object.freeze({ kind, dataDir: e.DATA_DIR === 'memory://' ? '.data' : e.DATA_DIR });
  return Object.freeze({ kind: 'none' as const });
}

/** Loads `.env` from the working directory when present; real environment variables win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

// `FOO=` in a shell or .env means "not set", not "set to the empty string".
function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => !!entry[1]));
}
