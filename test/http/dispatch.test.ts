import test from 'ava';
import type { Context, Next } from 'koa';
import { byApiGroup, compose, type Layer } from '../../src/http/dispatch.ts';

/** A layer that notes its name, then hands on (or not). */
function noting(seen: string[], name: string, handsOn = true): Layer {
  return (async (_ctx: Context, next: Next) => {
    seen.push(name);
    if (handsOn) await next();
    seen.push(`${name} after`);
  }) as Layer;
}

const context = (path: string) => ({ path }) as Context;

test('compose runs the layers in order, the last one handing on to the caller’s next', async (t) => {
  const seen: string[] = [];
  await compose([noting(seen, 'a'), noting(seen, 'b')])(context('/x'), async () => {
    seen.push('caller');
  });
  t.deepEqual(seen, ['a', 'b', 'caller', 'b after', 'a after']);
});

test('compose stops where a layer does not hand on', async (t) => {
  const seen: string[] = [];
  await compose([noting(seen, 'a', false), noting(seen, 'b')])(context('/x'), async () => {
    seen.push('caller');
  });
  t.deepEqual(seen, ['a', 'a after']);
});

test('a layer that throws before returning a promise rejects the composed promise, for the layers above to catch', async (t) => {
  const thrown = new Error('at once');
  const sync = (() => {
    throw thrown;
  }) as unknown as Layer;
  const seen: string[] = [];
  const running = compose([noting(seen, 'a'), sync])(context('/x'), async () => {});
  t.true(running instanceof Promise);
  t.is(await t.throwsAsync(running), thrown);
  t.deepEqual(seen, ['a']);
});

test('byApiGroup runs only the router of the request’s own group, whatever its case; other /api groups skip them all', async (t) => {
  const seen: string[] = [];
  const layer = byApiGroup([
    { groups: ['openapi.json'], layer: noting(seen, 'docs', false) },
    { groups: ['events'], layer: noting(seen, 'events', false) },
  ]);
  const next = async () => {
    seen.push('next');
  };
  await layer(context('/api/Events/user.created') as never, next);
  await layer(context('/api/openapi.json') as never, next);
  await layer(context('/api/organizations') as never, next);
  t.deepEqual(seen, ['events', 'events after', 'docs', 'docs after', 'next']);
});

test('byApiGroup passes a path outside /api through every router, in order', async (t) => {
  const seen: string[] = [];
  const layer = byApiGroup([
    { groups: ['openapi.json'], layer: noting(seen, 'docs') },
    { groups: ['events'], layer: noting(seen, 'events') },
  ]);
  await layer(context('/docs/api') as never, async () => {
    seen.push('next');
  });
  t.deepEqual(seen, ['docs', 'events', 'next', 'events after', 'docs after']);
});
