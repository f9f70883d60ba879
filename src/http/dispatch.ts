import type { Context, DefaultState, Middleware, Next } from 'koa';
import { groupOf } from './api-route.ts';

/**
 * Any Koa middleware, routers included: they declare the properties they add to the context (params),
 * so no single context type fits them all; at run time every layer gets the one Koa context.
 */
export type Layer = Middleware<DefaultState, never>;

/**
 * Runs layers in order, each one's `next` being the one after it and the last one's `next` the caller's.
 * A router none of whose routes can match the request's path is passed over (see `routerSkip`).
 * Each layer's own promise is passed on rather than awaited in a wrapper of ours (as koa-compose does):
 * one promise fewer per layer and request.
 */
export function compose(layers: readonly Layer[]): (ctx: Context, next: Next) => Promise<void> {
  const skips = layers.map((layer) => routerSkip(layer));
  return (ctx, next) => {
    const run = (index: number): Promise<void> => {
      const layer = layers[index] as Middleware | undefined;
      if (!layer) return next();
      if (skips[index]?.(ctx)) return run(index + 1);
      try {
        return Promise.resolve(layer(ctx, () => run(index + 1)));
      } catch (error) {
        // A layer that is not an async function may throw before it returns a promise.
        return Promise.reject(error);
      }
    };
    return run(0);
  };
}

type RouterLayer = { path: unknown; methods: readonly string[]; opts: { pathAsRegExp?: boolean } };
type KoaRouter = { stack: RouterLayer[]; opts: { host?: unknown; routerPath?: unknown } };

// Characters that make a path segment a pattern (a parameter, a wildcard, an optional part) rather than a name.
const LITERAL_SEGMENT = /^[\w.~-]*$/;

/**
 * For a @koa/router middleware: whether a request's path cannot match any of the router's routes,
 * because their paths all begin with literal segments ("/account/...", "/interaction/:uid/...") and
 * the request's first segment is none of them. Such a request would only be tested against every
 * route's pattern (and a debug() call per route) and passed on: a sign-in page crossed some twenty
 * routers that way before reaching its own. Routers with a host rule, a routerPath or any route
 * whose first segment is a pattern are never passed over. Segments compare without case, as the
 * routers' patterns do (they are not case-sensitive), so a route that could match is never skipped.
 */
function routerSkip(layer: Layer): ((ctx: Context) => boolean) | undefined {
  const router = (layer as { router?: KoaRouter }).router;
  if (!router || router.opts.host !== undefined || router.opts.routerPath !== undefined) return undefined;
  let known: { routes: number; segments: Set<string> | undefined } | undefined;
  const segmentsOf = () => {
    // Routes are added while the app is assembled; the set is rebuilt if one is added later.
    if (known?.routes !== router.stack.length) known = { routes: router.stack.length, segments: firstSegments(router) };
    return known.segments;
  };
  return (ctx) => {
    const state = ctx as { routerPath?: unknown; newRouterPath?: unknown };
    if (state.routerPath !== undefined || state.newRouterPath !== undefined) return false;
    const segments = segmentsOf();
    return segments !== undefined && !segments.has(firstSegment(ctx.path));
  };
}

function firstSegments(router: KoaRouter): Set<string> | undefined {
  const segments = new Set<string>();
  for (const { path, methods, opts } of router.stack) {
    // A router acts only when one of its routes (a layer with methods) matches: its middleware layers
    // (router.use) run only then, so they do not decide whether it can be passed over.
    if (!methods.length) continue;
    if (typeof path !== 'string' || opts.pathAsRegExp || !path.startsWith('/')) return undefined;
    const segment = firstSegment(path);
    if (!LITERAL_SEGMENT.test(segment)) return undefined;
    segments.add(segment);
  }
  return segments;
}

function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end === -1 ? path.slice(1) : path.slice(1, end)).toLowerCase();
}

export type Branch = { matches(ctx: Context): boolean; layers: readonly Layer[] };

/**
 * Chooses a request's middleware once, by its path, instead of letting it pass every router in
 * turn: the first branch that matches runs alone; a request no branch matches runs `rest`.
 */
export function dispatchByPath(branches: readonly Branch[], rest: readonly Layer[]): Middleware {
  const composed = branches.map((branch) => ({ matches: branch.matches, run: compose(branch.layers) }));
  const fallback = compose(rest);
  return (ctx, next) => {
    for (const branch of composed) if (branch.matches(ctx)) return branch.run(ctx, next);
    return fallback(ctx, next);
  };
}

/**
 * For the routers in front of the declared routes (the OpenAPI document, the event catalog, log
 * streams), as one layer: an /api request runs only the router of its own group (found once, by a
 * map lookup), or none, instead of being matched against their patterns or asking each of them in
 * turn. Paths outside /api (the reference page at /docs/api) pass all of them, in order, as before.
 */
export function byApiGroup(routers: readonly { groups: readonly string[]; layer: Layer }[]): Layer {
  const byGroup = new Map<string, Middleware>();
  for (const { groups, layer } of routers)
    for (const group of groups) byGroup.set(group.toLowerCase(), layer as Middleware);
  const all = compose(routers.map(({ layer }) => layer));
  return ((ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/api/')) return all(ctx, next);
    const layer = byGroup.get(groupOf(ctx.path)?.toLowerCase() ?? '');
    return layer ? layer(ctx, next) : next();
  }) as Layer;
}
