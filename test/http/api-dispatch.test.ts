import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa, { type Middleware } from 'koa';
import { z } from 'zod';
import { defineRoute, mountApiRoutes, type ApiRoute } from '../../src/http/api-route.ts';

const answer = z.object({ route: z.string(), params: z.record(z.string(), z.string()) });
const anyScope = (): Middleware => (_ctx, next) => next();

function route(method: ApiRoute['method'], path: string, body?: z.ZodType): ApiRoute {
  return defineRoute({
    method,
    path,
    summary: path,
    tag: 'Test',
    scopes: [],
    ...(body ? { body } : {}),
    response: answer,
    handler: async (ctx) => ({ route: `${method} ${path}`, params: { ...ctx.params } }),
  });
}

// Routes of two groups, declared out of group order, one group's paths a prefix of another word.
const routes = [
  route('get', '/api/things/:id'),
  route('get', '/api/others'),
  route('get', '/api/things/special'),
  route('post', '/api/things', z.object({ name: z.string() })),
  route('delete', '/api/things/:id'),
  route('get', '/api/thingsmore'),
];

async function withServer(run: (base: string) => Promise<void>) {
  const koa = new Koa();
  koa.use(mountApiRoutes(routes, anyScope, { checkResponses: true }));
  const server = createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.close();
  }
}

const call = async (base: string, method: string, path: string, body?: string) => {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
};

test('routes are matched within their group as @koa/router matches them: declaration order, params decoded', async (t) => {
  await withServer(async (base) => {
    // The parametric route was declared first, so it takes /special too, as one router did.
    t.deepEqual((await call(base, 'GET', '/api/things/special')).body, {
      route: 'get /api/things/:id',
      params: { id: 'special' },
    });
    t.deepEqual((await call(base, 'GET', '/api/things/a%20b')).body, {
      route: 'get /api/things/:id',
      params: { id: 'a b' },
    });
    t.is((await call(base, 'DELETE', '/api/things/x')).body?.route, 'delete /api/things/:id');
    t.is((await call(base, 'GET', '/api/others')).body?.route, 'get /api/others');
    t.is((await call(base, 'GET', '/api/thingsmore')).body?.route, 'get /api/thingsmore');
  });
});

test('a trailing slash, another case and HEAD for GET still find their route', async (t) => {
  await withServer(async (base) => {
    t.is((await call(base, 'GET', '/api/others/')).body?.route, 'get /api/others');
    t.is((await call(base, 'GET', '/api/OTHERS')).body?.route, 'get /api/others');
    t.is((await call(base, 'GET', '/api/Things/1')).body?.route, 'get /api/things/:id');
    t.is((await call(base, 'HEAD', '/api/others')).status, 200);
  });
});

test('an unknown group, an unknown path in a group and a wrong method answer the JSON 404', async (t) => {
  await withServer(async (base) => {
    for (const [method, path] of [
      ['GET', '/api'],
      ['GET', '/api/'],
      ['GET', '/api/nothing'],
      ['GET', '/api/things/1/2'],
      ['PUT', '/api/things/1'],
      ['GET', '/api/things'],
    ] as const) {
      const answered = await call(base, method, path);
      t.is(answered.status, 404, `${method} ${path}`);
      t.is(answered.body?.error, 'not_found', `${method} ${path}`);
    }
  });
});

test('a route with a body schema parses and checks its JSON body', async (t) => {
  await withServer(async (base) => {
    t.is((await call(base, 'POST', '/api/things', '{"name":"x"}')).body?.route, 'post /api/things');
    const missing = await call(base, 'POST', '/api/things', '{}');
    t.is(missing.status, 400);
    t.is(missing.body?.error, 'invalid_request');
    const malformed = await call(base, 'POST', '/api/things', '{');
    t.is(malformed.status, 400);
    t.is(malformed.body?.error, 'invalid_request');
  });
});

test('a route whose first segment after /api/ is a parameter is refused when the routes are mounted', (t) => {
  t.throws(() => mountApiRoutes([route('get', '/api/:id')], anyScope, { checkResponses: false }), {
    message: /must be a literal/,
  });
});

test('a route without parameters is found as the router finds it: its pattern for the metrics, params empty', async (t) => {
  const seen: unknown[] = [];
  const koa = new Koa();
  koa.use(async (ctx, next) => {
    await next();
    seen.push((ctx as { _matchedRoute?: unknown })._matchedRoute);
  });
  koa.use(
    mountApiRoutes(
      [
        route('get', '/api/things/:id'),
        route('get', '/api/things/special'),
        route('get', '/api/others'),
        route('post', '/api/others', z.object({ name: z.string() })),
      ],
      anyScope,
      { checkResponses: true },
    ),
  );
  const server = createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    t.deepEqual((await call(base, 'GET', '/api/others')).body, { route: 'get /api/others', params: {} });
    t.is((await call(base, 'POST', '/api/others', '{"name":"x"}')).body?.route, 'post /api/others');
    t.is((await call(base, 'POST', '/api/others/', '{}')).status, 400);
    t.is((await call(base, 'HEAD', '/api/others/')).status, 200);
    t.is((await call(base, 'PUT', '/api/others')).status, 404);
    // Declared after a parametric route that matches it: the router's order still decides.
    t.is((await call(base, 'GET', '/api/things/special')).body?.route, 'get /api/things/:id');
    t.deepEqual(seen, ['/api/others', '/api/others', '/api/others', '/api/others', undefined, '/api/things/:id']);
  } finally {
    server.close();
  }
});
