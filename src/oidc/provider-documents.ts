import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { ProviderHost } from './provider.ts';

// Discovery changes only with a deploy; the JWKS with a rotation, after which a verifier meeting an
// unknown `kid` fetches the set again (OIDC Core 10.1.1), and the ETag makes every revalidation a 304.
const CACHE_CONTROL: Record<Document, string> = {
  discovery: 'public, max-age=300',
  jwks: 'public, max-age=60',
};

// oidc-provider builds its endpoint URLs from the request's origin (Host, or X-Forwarded-Host
// behind a trusted proxy), so each origin has its own bytes of each document; past this many,
// requests simply go to oidc-provider, so made-up Host headers cannot grow the cache.
const DOCUMENTS_PER_PROVIDER = 24;

type Document = 'discovery' | 'jwks';
// The body is kept as a string: Node writes a string answer's head and body in one `write`, where a
// Buffer body goes out as a second chunk through `writev`, a measurable share of a JWKS request.
type Rendered = { status: number; headers: Record<string, string>; body: string; etag: string };

/**
 * Discovery and the JWKS, the documents every relying party and resource server fetches, served
 * from bytes oidc-provider rendered once per provider instance (a key rotation builds a new
 * provider, so new bytes) and origin, with a strong ETag (RFC 9110 8.8.3) and Cache-Control.
 * Requests with an Origin header (CORS, which oidc-provider answers per origin) and every other
 * method go to oidc-provider as before.
 */
export function providerDocuments(host: ProviderHost) {
  const provider = host.current();
  const documents = new Map<string, Document>([
    // Both discovery routes (OIDC Discovery 4, RFC 8414 3) are named `discovery` in oidc-provider.
    ['/.well-known/openid-configuration', 'discovery'],
    ['/.well-known/oauth-authorization-server', 'discovery'],
    [provider.pathFor('jwks'), 'jwks'],
  ]);
  const rendered = new WeakMap<Provider, Map<string, Promise<Rendered>>>();

  const middleware: Middleware = async (ctx, next) => {
    const document = documents.get(ctx.path);
    if (!document || (ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.get('Origin') || ctx.querystring)
      return next();
    const current = host.current();
    let byOrigin = rendered.get(current);
    if (!byOrigin) {
      byOrigin = new Map();
      rendered.set(current, byOrigin);
    }
    const key = `${ctx.protocol}://${ctx.host}${ctx.path}`;
    let entry = byOrigin.get(key);
    if (!entry) {
      if (byOrigin.size >= DOCUMENTS_PER_PROVIDER) return next();
      entry = render(current, ctx);
      byOrigin.set(key, entry);
      // A failed render is not kept: the next request tries again.
      entry.catch(() => byOrigin.delete(key));
    }
    const { status, headers, body, etag } = await entry;
    if (status !== 200) return next();
    ctx.set(headers);
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', CACHE_CONTROL[document]);
    // RFC 9110 13.1.2: an origin server answers a matching If-None-Match with 304 and no body,
    // whatever Cache-Control the request carries (fetch() adds no-cache to every conditional request).
    if (noneMatch(ctx.get('If-None-Match'), etag)) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.body = body;
  };

  return { matches: (ctx: Pick<Context, 'path'>) => documents.has(ctx.path), middleware };
}

/** RFC 9110 13.1.2: `*`, or any listed entity tag equal to ours under weak comparison (8.8.3.2). */
function noneMatch(header: string, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Runs oidc-provider on a request of our own making, with the headers that decide the origin. */
function render(provider: Provider, ctx: Context): Promise<Rendered> {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = ctx.path;
  for (const name of ['host', 'x-forwarded-host', 'x-forwarded-proto']) {
    const value = ctx.req.headers[name];
    if (typeof value === 'string') req.headers[name] = value;
  }
  req.push(null);
  const res = new ServerResponse(req);
  return new Promise((resolve, reject) => {
    res.end = ((chunk?: string | Buffer) => {
      const body = Buffer.isBuffer(chunk) ? chunk.toString('utf8') : (chunk ?? '');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.getHeaders())) {
        if (value !== undefined && name !== 'content-length') headers[name] = String(value);
      }
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      resolve({ status: res.statusCode, headers, body, etag });
      return res;
    }) as ServerResponse['end'];
    provider.callback()(req, res).catch(reject);
  });
}
