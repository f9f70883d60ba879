import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import type { RequestOrigin } from '../shared/request-origin.ts';
import { currentRequestId } from '../shared/request-scope.ts';

// Kept on the Node request, which our Koa app and oidc-provider's (a Koa app of its own, with
// contexts of its own) share: both read the one address `recordClientAddress` derived. A symbol
// property rather than a WeakMap: every request's entry in a WeakMap cost about a microsecond to add
// and more for the garbage collector to clear (a profile of a cheap /api request put it at 2 %).
const ADDRESS = Symbol('fairyid.clientAddress');
type Addressed = IncomingMessage & { [ADDRESS]?: string };
/**
 * The address a request came from. Each proxy appends the address it received the request from to
 * X-Forwarded-For, after whatever the client wrote there itself; so only the entry `hops` from the
 * right, the one the outermost trusted proxy appended, is not the client's own say. The left-most
 * entry is whatever the client typed, and would let anyone pick a fresh address for every request.
 */
export function forwardedAddress(req: IncomingMessage, hops: number): string {
  const peer = req.socket.remoteAddress ?? '';
  if (hops < 1) return peer;
  // Node joins repeated X-Forwarded-For headers with commas, so one list covers them all.
  const chain = [req.headers['x-forwarded-for'] ?? '']
    .flat()
    .join(',')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // A shorter chain came through fewer proxies than configured: its first entry is still a proxy's.
  // No chain at all is a request that reached us without a proxy: only the connection says where from.
  return chain[Math.max(0, chain.length - hops)] ?? peer;
}

/**
 * Derives a request's client address once, first thing (the request frame, request-frame.ts; see
 * forwardedAddress); `ctx.ip` is set to it too, so nothing in our app reads a different one.
 */
export function recordClientAddress(ctx: Pick<Context, 'req' | 'request'>, trustedProxyHops: number) {
  const address = forwardedAddress(ctx.req, trustedProxyHops);
  (ctx.req as Addressed)[ADDRESS] = address;
  ctx.request.ip = address;
}

/** For middleware that hands downstream a new request object standing for the same request. */
export function carryClientAddress(from: IncomingMessage, to: IncomingMessage) {
  const address = (from as Addressed)[ADDRESS];
  if (address !== undefined) (to as Addressed)[ADDRESS] = address;
}

/** The client address of a request, in our routes or inside oidc-provider: the one source for budgets and audit. */
export function clientIp(ctx: Pick<Context, 'req'>): string {
  const address = (ctx.req as Addressed)[ADDRESS];
  // Only a request that bypassed recordClientAddress has none: a wiring mistake, never a reason to trust a header.
  if (address === undefined) throw new Error('the request frame did not see this request');
  return address;
}

/** The client address (see clientIp), browser and id of a request. */
export function requestOrigin(ctx: Pick<Context, 'req' | 'get'>): RequestOrigin {
  return {
    ip: clientIp(ctx) || null,
    userAgent: ctx.get('user-agent') || null,
    // Carried through oidc-provider's own Koa app too: both run inside the request frame's scope.
    requestId: currentRequestId(),
  };
}
