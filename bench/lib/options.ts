import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run bench -- [options]

  --reps N            interleaved repetitions per scenario and server (default 5)
  --duration S        seconds per timed run (default 5)
  --connections C     concurrent connections for the req/s scenarios (default 16)
  --warmup S          untimed seconds per scenario and server before the repetitions (default 1;
                      5 with --instances, so that every instance has had its share of warm-up)
  --only a,b          run only these scenarios (discovery, jwks, client_credentials, refresh,
                      introspection, userinfo, api_jwt, api_jwt_person, signin,
                      token_after_expired_rows, terminal)
  --runtime R         how FairyID runs: auto (default: dist/ when it is up to date, else the
                      sources), dist, or source
  --no-reference      measure FairyID only (no oidc-provider reference, no Koa hello)
  --instances N       scale-out check: N FairyID processes on the same Postgres + Redis and
                      ISSUER, load spread over all of them, against one instance (needs
                      DATABASE_URL and REDIS_URL; default scenarios client_credentials,refresh)
  --target URL        measure an already running instance instead (see bench/README.md)
  --machine-client ID:SECRET   with --target: a client_credentials client (scope account:read)
  --web-client ID:SECRET       with --target: a code-flow client allowed offline_access
  --redirect-uri URI           with --target: the web client's registered redirect URI
  --help`;

export type Options = {
  reps: number;
  duration: number;
  connections: number;
  warmup: number;
  only: Set<string> | undefined;
  runtime: 'auto' | 'dist' | 'source';
  reference: boolean;
  /** 1: the usual comparison with the references; 2 or more: the scale-out check. */
  instances: number;
  target: string | undefined;
  machineClient: { id: string; secret: string } | undefined;
  webClient: { id: string; secret: string } | undefined;
  redirectUri: string | undefined;
};

export function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '16' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      runtime: { type: 'string', default: 'auto' },
      'no-reference': { type: 'boolean', default: false },
      instances: { type: 'string', default: '1' },
      target: { type: 'string' },
      'machine-client': { type: 'string' },
      'web-client': { type: 'string' },
      'redirect-uri': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const runtime = values.runtime;
  if (runtime !== 'auto' && runtime !== 'dist' && runtime !== 'source')
    throw new Error('--runtime must be auto, dist or source');
  const instances = positiveInt('--instances', values.instances);
  if (instances > 1 && values.target)
    throw new Error('--instances starts servers of its own; it cannot be used with --target');
  return {
    reps: positiveInt('--reps', values.reps),
    duration: positiveInt('--duration', values.duration),
    connections: positiveInt('--connections', values.connections),
    warmup: nonNegativeInt('--warmup', values.warmup ?? (instances > 1 ? '5' : '1')),
    only: values.only ? new Set(values.only.split(',').map((name) => name.trim())) : undefined,
    runtime,
    // The scale-out check compares FairyID with itself; the references are not run.
    reference: !values['no-reference'] && !values.target && instances === 1,
    instances,
    target: values.target?.replace(/\/$/, ''),
    machineClient: credentials('--machine-client', values['machine-client']),
    webClient: credentials('--web-client', values['web-client']),
    redirectUri: values['redirect-uri'],
  };
}

function positiveInt(name: string, raw: string) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

function nonNegativeInt(name: string, raw: string) {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

function credentials(name: string, raw: string | undefined) {
  if (!raw) return undefined;
  const separator = raw.indexOf(':');
  if (separator < 1) throw new Error(`${name} must be CLIENT_ID:CLIENT_SECRET`);
  return { id: raw.slice(0, separator), secret: raw.slice(separator + 1) };
}
