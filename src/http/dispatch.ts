import type { Context, DefaultState, Middleware, Next } from 'koa';
import { groupOf } from './api-route.ts';

/**
 * Any Koa middleware, routers included: they declare the properties they add to the context (params),
 * so no single context type fits them all; at run time every layer gets the one Koa context.
 */
export type Layer = Middleware<DefaultState, never>;

/**
 * Runs layers in order, each one's `next` being the one after it and the last one's `next` the caller's.
 * Each layer's own promise is passed on rather than awaited in a wrapper of ours (as koa-compose does):
 * one promise fewer per layer and request.
 */
export function compose(layers: readonly Layer[]): (ctx: Context, next: Next) => Promise<void> {
  return (ctx, next) => {
    const run = (index: number): Promise<void> => {
      const layer = layers[index] as Middleware | undefined;
      if (!layer) return next();
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
