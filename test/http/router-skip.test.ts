import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import test from 'ava';
import Koa, { type Middleware } from 'koa';
import { dispatchByPath, type Layer } from '../../src/http/dispatch.ts';

/** Every router a request entered, in order, and who answered it. */
async function withApp(layers: Layer[], run: (get: (path: string) => Promise<string>) => Promise<void>) {
  const koa = new Koa();
  koa.use(async (ctx, next) => {
    ctx.state.entered = [];
    await next();
  });
  koa.use(dispatchByPath([], layers));
  const server = createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await run(async (path) => (await fetch(base + path)).text());
  } finally {
    server.close();
  }
}

/** A router's routes() that notes every request it is entered with, whether or not a route of it answers. */
function traced(name: string, router: Router): Layer {
  const routes = router.routes() as unknown as Middleware;
  const layer: Middleware = (ctx, next) => {
    (ctx.state.entered as string[]).push(name);
    return routes(ctx, next);
  };
  // The dispatcher recognises a router by the `router` its routes() middleware carries.
  return Object.assign(layer, { router: (routes as { router?: unknown }).router }) as Layer;
}

function answering(name: string, paths: string[], options: { prefix?: string; host?: string } = {}) {
  const router = new Router(options);
  for (const path of paths) {
    router.get(path, (ctx) => {
      ctx.body = `${name} ${(ctx.state.entered as string[]).join(',')}`;
    });
  }
  return router;
}

const fallback = ((ctx) => {
  ctx.body = `fallback ${(ctx.state.entered as string[]).join(',')}`;
}) as Middleware as Layer;

test('a router is passed over when no route of it begins with the path first segment', async (t) => {
  const account = traced('account', answering('account', ['/account', '/account/:section']));
  const interaction = traced('interaction', answering('interaction', ['/x', '/y'], { prefix: '/interaction/:uid' }));
  await withApp([account, interaction, fallback], async (get) => {
    t.is(await get('/interaction/abc/x'), 'interaction interaction');
    t.is(await get('/account/security'), 'account account');
    t.is(await get('/auth'), 'fallback ');
  });
});

test('a path that could match is never passed over: case, a longer first segment, the root', async (t) => {
  const account = traced('account', answering('account', ['/account', '/']));
  await withApp([account, fallback], async (get) => {
    // Router patterns are not case-sensitive.
    t.is(await get('/ACCOUNT'), 'account account');
    t.is(await get('/'), 'account account');
    t.is(await get('/accounts'), 'fallback ');
  });
});

test('a router whose first segment is a pattern, or with a host rule, is always entered', async (t) => {
  const params = traced('params', answering('params', ['/:anything/here']));
  const hosted = traced('hosted', answering('hosted', ['/hosted'], { host: 'example.com' }));
  await withApp([params, hosted, fallback], async (get) => {
    t.is(await get('/what/here'), 'params params');
    t.is(await get('/elsewhere'), 'fallback params,hosted');
  });
});
