// The baseline for the api_jwt scenarios: a bare Koa "hello world" (no middleware, no routing, no
// logging), so FairyID's /api/whoami is compared with the cheapest JSON response Koa can give on the
// same Node, core and load generator. Whatever FairyID adds on top of that (its middleware stack,
// the router, the bearer guard, the response schema) is what the ratio measures.
//
// Environment: PORT. Run with plain `node` (type stripping), as FairyID's sources are.
import { createServer } from 'node:http';
import Koa from 'koa';

const port = Number(process.env.PORT);
if (!port) throw new Error('PORT is required');

const koa = new Koa();
koa.use((ctx) => {
  ctx.body = { hello: 'world' };
});

const server = createServer(koa.callback());
// Like FairyID's main.ts, so idle keep-alive connections are treated alike.
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`koa-hello listening on http://127.0.0.1:${port}`));

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
