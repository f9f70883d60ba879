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
};

/** One autocannon run, from this process (the load generator's core). */
export async function runLoad(spec: LoadSpec, options: { connections: number; duration: number }): Promise<LoadResult> {
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
