import autocannon, { type Request } from 'autocannon';

export type LoadSpec = {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request mutation (a fresh token per request, say); runs right before each request is sent. */
  setupRequest?: Request['setupRequest'];
  /** Sees every response before it is counted (to collect a rotated refresh token, say). */
  onResponse?: (status: number, body: string) => void;
  /** A response counts as served only when it is 2xx and passes this check. */
  check: (body: string) => boolean;
};

export type LoadResult = {
  /** Responses that were 2xx and passed the scenario's check, per second of the run. */
  reqPerSec: number;
  ok: number;
  failed: number;
  connectionErrors: number;
  timeouts: number;
  durationS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; average: number };
  statusCodes: Record<string, number>;
  firstFailure?: string;
  /** With several origins: each one's share. */
  perOrigin?: { origin: string; reqPerSec: number; ok: number; failed: number; latencyMs: LoadResult['latencyMs'] }[];
};

export type LoadOptions = {
  connections: number;
  duration: number;
  /**
   * Several servers for the same issuer (--instances): `spec.url` starts with `base`, which is
   * replaced by each origin; the connections are split evenly and the runs go at the same time.
   */
  spread?: { base: string; origins: string[] };
};

/**
 * One autocannon run, from this process (the load generator's core); with `spread`, one autocannon
 * run per origin, concurrently, summed (latency percentiles: the worst origin's).
 */
export async function runLoad(spec: LoadSpec, options: LoadOptions): Promise<LoadResult> {
  const origins = options.spread?.origins ?? [];
  if (origins.length < 2) return runOne(spec, options);
  const { base } = options.spread!;
  if (!spec.url.startsWith(base)) throw new Error(`${spec.url} is not under ${base}`);
  const parts = await Promise.all(
    origins.map((origin, i) =>
      runOne(
        { ...spec, url: origin + spec.url.slice(base.length) },
        {
          connections:
            Math.floor(options.connections / origins.length) + (i < options.connections % origins.length ? 1 : 0),
          duration: options.duration,
        },
      ),
    ),
  );
  const durationS = Math.max(...parts.map((part) => part.durationS));
  const ok = parts.reduce((sum, part) => sum + part.ok, 0);
  const worst = (key: keyof LoadResult['latencyMs']) => Math.max(...parts.map((part) => part.latencyMs[key]));
  const statusCodes: Record<string, number> = {};
  for (const part of parts)
    for (const [code, count] of Object.entries(part.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  const firstFailure = parts.find((part) => part.firstFailure)?.firstFailure;
  return {
    reqPerSec: durationS > 0 ? ok / durationS : 0,
    ok,
    failed: parts.reduce((sum, part) => sum + part.failed, 0),
    connectionErrors: parts.reduce((sum, part) => sum + part.connectionErrors, 0),
    timeouts: parts.reduce((sum, part) => sum + part.timeouts, 0),
    durationS,
    latencyMs: {
      p50: worst('p50'),
      p90: worst('p90'),
      p99: worst('p99'),
      max: worst('max'),
      average: worst('average'),
    },
    statusCodes,
    ...(firstFailure ? { firstFailure } : {}),
    perOrigin: parts.map((part, i) => ({
      origin: origins[i]!,
      reqPerSec: part.reqPerSec,
      ok: part.ok,
      failed: part.failed,
      latencyMs: part.latencyMs,
    })),
  };
}

async function runOne(spec: LoadSpec, options: { connections: number; duration: number }): Promise<LoadResult> {
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const request: Request = {
    method: spec.method ?? 'GET',
    headers: spec.headers ?? {},
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(spec.setupRequest ? { setupRequest: spec.setupRequest } : {}),
    onResponse(status, body) {
      spec.onResponse?.(status, body);
      if (status >= 200 && status < 300 && spec.check(body)) ok += 1;
      else {
        failed += 1;
        firstFailure ??= `${status} ${body.slice(0, 300)}`;
      }
    },
  };
  const result = await autocannon({
    url: spec.url,
    connections: options.connections,
    duration: options.duration,
    timeout: 10,
    requests: [request],
  });
  return {
    reqPerSec: result.duration > 0 ? ok / result.duration : 0,
    ok,
    failed,
    connectionErrors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      average: result.latency.average,
    },
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    ...(firstFailure ? { firstFailure } : {}),
  };
}
