import { Histogram } from 'prom-client';
import type { AnsweredRequest } from '../http/request-context.ts';
import { OTHER, type MetricsRegistry } from './registry.ts';

/** What a request counts under when no route of ours or oidc-provider's took it (404s, scanners). */
export const UNMATCHED = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

// From a millisecond (discovery and the JWKS from bytes) to ten seconds (a slow upstream or SMTP).
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Request latency (whose `_count` is the request count) by method, route and status. The route is
 * the pattern @koa/router matched (`/api/organizations/:id`), else oidc-provider's route name
 * (`oidc:token`), else `unmatched`: never the raw path, so a thousand made-up paths are one series.
 *
 * Each observation is synchronous, on the request's own `finally` (http/request-context.ts): no
 * middleware, no promise. The labels of a (method, route, status) are built once and kept.
 */
export function createHttpMetrics(metrics: MetricsRegistry, providerRoute: (path: string) => string | undefined) {
  const histogram = new Histogram({
    name: 'fairyid_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status: latency in seconds (_count is the request count)',
    labelNames: ['method', 'route', 'status'],
    buckets: BUCKETS,
    registers: [metrics.registry],
  });
  // Bounded by methods x routes x statuses, all of which are finite.
  const labels = new Map<string, { method: string; route: string; status: string }>();

  return {
    observe(request: AnsweredRequest, seconds: number) {
      const method = METHODS.has(request.method) ? request.method : OTHER;
      const route =
        typeof request.matchedRoute === 'string'
          ? request.matchedRoute
          : request.matchedRoute instanceof RegExp
            ? String(request.matchedRoute)
            : (providerRoute(request.path) ?? UNMATCHED);
      const key = `${method} ${request.status} ${route}`;
      let set = labels.get(key);
      if (!set) {
        set = { method, route, status: String(request.status) };
        labels.set(key, set);
      }
      histogram.observe(set, seconds);
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
