import type { Metric } from 'prom-client';
import type { AnsweredRequest } from '../http/request-frame.ts';
import { OTHER, type MetricsRegistry } from './registry.ts';

/** What a request counts under when no route of ours or oidc-provider's took it (404s, scanners). */
export const UNMATCHED = 'unmatched';

const NAME = 'fairyid_http_request_duration_seconds';
const HELP = 'HTTP requests by method, route pattern and status: latency in seconds (_count is the request count)';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', OTHER];
const METHOD_INDEX = new Map(METHODS.slice(0, -1).map((method, index) => [method, index]));

// From a millisecond (discovery and the JWKS from bytes) to ten seconds (a slow upstream or SMTP).
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Series = { labels: { method: string; route: string; status: string }; counts: Float64Array; sum: number };

/**
 * Request latency (whose `_count` is the request count) by method, route and status. The route is
 * the pattern @koa/router matched (`/api/organizations/:id`), else oidc-provider's route name
 * (`oidc:token`), else `unmatched`: never the raw path, so a thousand made-up paths are one series.
 *
 * Each observation is synchronous, on the request's own `finally` (http/request-frame.ts): no
 * middleware, no promise. It is a map lookup and a few additions into this series' own counters;
 * prom-client's Histogram would validate and hash the labels on every call (several microseconds),
 * so the series are kept here and handed to the registry in prom-client's metric shape at scrape.
 */
export function createHttpMetrics(metrics: MetricsRegistry, providerRoute: (path: string) => string | undefined) {
  // By route, then by status and method as one small integer: no string is built per request, and the
  // route strings are the routers' own (hashed once). Bounded by routes x statuses x methods.
  const byRoute = new Map<string, Map<number, Series>>();

  const collector = {
    name: NAME,
    help: HELP,
    type: 'histogram',
    aggregator: 'sum',
    reset: () => byRoute.clear(),
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const { labels, counts, sum } of [...byRoute.values()].flatMap((route) => [...route.values()])) {
        let cumulative = 0;
        for (const [i, bound] of BUCKETS.entries()) {
          cumulative += counts[i] ?? 0;
          values.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: `${NAME}_bucket` });
        }
        const count = cumulative + (counts[BUCKETS.length] ?? 0);
        values.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: `${NAME}_bucket` });
        values.push({ labels, value: sum, metricName: `${NAME}_sum` });
        values.push({ labels, value: count, metricName: `${NAME}_count` });
      }
      return { name: NAME, help: HELP, type: 'histogram', values, aggregator: 'sum' };
    },
  };
  metrics.registry.registerMetric(collector as unknown as Metric);

  return {
    observe(request: AnsweredRequest, seconds: number) {
      const route =
        typeof request.matchedRoute === 'string'
          ? request.matchedRoute
          : request.matchedRoute instanceof RegExp
            ? String(request.matchedRoute)
            : (providerRoute(request.path) ?? UNMATCHED);
      const method = METHOD_INDEX.get(request.method) ?? METHODS.length - 1;
      const key = request.status * METHODS.length + method;
      let statuses = byRoute.get(route);
      if (!statuses) {
        statuses = new Map();
        byRoute.set(route, statuses);
      }
      let entry = statuses.get(key);
      if (!entry) {
        // The last slot counts what is above the largest bound (+Inf only).
        const labels = { method: METHODS[method] ?? OTHER, route, status: String(request.status) };
        entry = { labels, counts: new Float64Array(BUCKETS.length + 1), sum: 0 };
        statuses.set(key, entry);
      }
      let bucket = 0;
      while (bucket < BUCKETS.length && seconds > (BUCKETS[bucket] ?? Number.POSITIVE_INFINITY)) bucket += 1;
      entry.counts[bucket] = (entry.counts[bucket] ?? 0) + 1;
      entry.sum += seconds;
    },
  };
}

/** oidc-provider routes whose path ends in a parameter: the prefix before it, and the route's name. */
const PARAMETER_ROUTES: [string, string][] = [
  ['authorization', 'resume'],
  ['code_verification', 'device_resume'],
  ['registration', 'client'],
];

const PLAIN_ROUTES = [
  'authorization',
  'token',
  'userinfo',
  'jwks',
  'registration',
  'revocation',
  'introspection',
  'end_session',
  'device_authorization',
  'code_verification',
  'pushed_authorization_request',
  'backchannel_authentication',
];

/**
 * Names oidc-provider's route for a path, as its router would (lib/helpers/initialize_app.js), from
 * the paths the provider reports; a path it has no route for is undefined. Exact paths first, then
 * those with one trailing parameter (`/auth/:uid`).
 */
export function providerRouteNames(pathFor: (name: string) => string): (path: string) => string | undefined {
  const safePathFor = (name: string) => {
    try {
      return pathFor(name);
    } catch {
      // A feature that is turned off has no route.
      return undefined;
    }
  };
  const exact = new Map<string, string>([
    ['/.well-known/openid-configuration', 'oidc:discovery'],
    ['/.well-known/oauth-authorization-server', 'oidc:discovery'],
  ]);
  for (const name of PLAIN_ROUTES) {
    const path = safePathFor(name);
    if (path) exact.set(path, `oidc:${name}`);
  }
  const endSession = safePathFor('end_session');
  if (endSession) {
    exact.set(`${endSession}/confirm`, 'oidc:end_session_confirm');
    exact.set(`${endSession}/success`, 'oidc:end_session_success');
  }
  const prefixes = PARAMETER_ROUTES.flatMap(([base, name]) => {
    const path = safePathFor(base);
    return path ? [{ prefix: `${path}/`, name: `oidc:${name}` }] : [];
  });
  return (path) => {
    const named = exact.get(path);
    if (named) return named;
    for (const { prefix, name } of prefixes) {
      if (path.startsWith(prefix) && path.length > prefix.length && !path.includes('/', prefix.length)) return name;
    }
    return undefined;
  };
}
