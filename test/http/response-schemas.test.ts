import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa, { type Middleware } from 'koa';
import { z } from 'zod';
import { checkResponse, defineRoute, mountApiRoutes, ResponseSchemaError } from '../../src/http/api-route.ts';

const declared = z.object({ id: z.string(), items: z.array(z.object({ name: z.string() })) });
const anyScope = (): Middleware => (_ctx, next) => next();

/** Serves one route that answers `answer` and returns what a client gets. */
async function serve(answer: unknown, checkResponses: boolean) {
  const koa = new Koa();
  const route = defineRoute({
    method: 'get',
    path: '/api/thing',
    summary: 'A thing',
    tag: 'Test',
    scopes: [],
    response: declared,
    // The cast stands for a handler whose type is wider than what it returns (a row spread, say).
    handler: async () => answer as z.input<typeof declared>,
  });
  koa.use(mountApiRoutes([route], anyScope, { checkResponses }));
  const server = createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/thing`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } finally {
    server.close();
  }
}

test('outside production a handler that answers a field its schema does not declare fails', async (t) => {
  const leaking = { id: 'a', items: [{ name: 'x', secret: 'hash' }] };
  const checked = await serve(leaking, true);
  t.is(checked.status, 500);
  t.is(checked.body.error, 'server_error');
  t.false(JSON.stringify(checked.body).includes('hash'), 'the undeclared field is not sent');
  t.is((await serve(leaking, false)).status, 200, 'production does not pay for the check');
});

test('an answer that matches its schema is sent as it is; a wrong type fails like an extra field', async (t) => {
  t.deepEqual(await serve({ id: 'a', items: [{ name: 'x' }] }, true), {
    status: 200,
    body: { id: 'a', items: [{ name: 'x' }] },
  });
  t.is((await serve({ id: 1, items: [] }, true)).status, 500);
});

test('the check names the route and the field', (t) => {
  const route = { method: 'get' as const, path: '/api/thing', response: declared };
  const extra = t.throws(() => checkResponse(route, { id: 'a', items: [], token: 't' }), {
    instanceOf: ResponseSchemaError,
  });
  t.is(extra.message, 'GET /api/thing answered an undeclared field "token"');
  const nested = t.throws(() => checkResponse(route, { id: 'a', items: [{ name: 'n', hash: 'h' }] }));
  t.regex(nested.message, /"items\.0\.hash"/);
  const wrong = t.throws(() => checkResponse(route, { id: 'a', items: 'no' }));
  t.regex(wrong.message, /answered "items"/);
  t.notThrows(() => checkResponse(route, { id: 'a', items: [], gone: undefined }), 'undefined is never sent');
});
