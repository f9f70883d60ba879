import type { Context, DefaultState, Middleware, Next } from 'koa';
import { groupOf } from './api-route.ts';

/**
 * Any Koa middleware, routers included: they declare the properties they add to the context (params),
 * so no single context type fits them all; at run time every layer gets the one Koa context.
 */
export type Layer = Middleware<DefaultState, never>;

/** Runs layers in order, each one's `next` being the one after it and the last one's `next` the caller's. */
export function compose(layers: readonly Layer[]): (ctx: Context, next: Next) => Promise<void> {
  return (ctx, next) => {
    const run = async (index: number): Promise<void> => {
      const layer = layers[index] as Middleware | undefined;
      if (!layer) return next();
      await layer(ctx, () => run(index + 1));
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
 * streams): an /api request whose group is none of theirs skips them instead of being matched
 * against their patterns. Paths outside /api (the reference page at /docs/api) reach them as before.
 */
export function onlyForApiGroups(groups: readonly string[], layer: Layer): Layer {
  const names = new Set(groups.map((group) => group.toLowerCase()));
  const run = layer as Middleware;
  return ((ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/api/')) return run(ctx, next);
    return names.has(groupOf(ctx.path)?.toLowerCase() ?? '') ? run(ctx, next) : next();
  }) as Layer;
}
