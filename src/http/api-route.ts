import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import { ApiError } from '../shared/api-error.ts';
import { deepFrozen } from '../shared/deep-frozen.ts';
import { apiErrors } from './api-errors.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One declaration per /api route: the zod schemas here validate the request, type the handler's
 * answer, and generate the OpenAPI document, so the document cannot drift from what the code
 * accepts or answers. Outside production every answer is also checked against `response`.
 */
export type ApiRoute<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> = {
  method: Method;
  /** Koa style: /api/organizations/:id */
  path: string;
  summary: string;
  tag: string;
  scopes: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** What a success answers; `z.null()` for 204, whose handler returns nothing. */
  response: R;
  status?: number;
  handler(
    ctx: Context,
    input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> },
  ): Promise<R extends z.ZodNull ? void : z.input<R>>;
};

export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(
  route: ApiRoute<P, Q, B, R>,
): ApiRoute {
  return route as unknown as ApiRoute;
}

/** Thrown outside production when a handler's answer is not what its route declares. */
export class ResponseSchemaError extends Error {}

/**
 * Checks an answer against its declared schema, extra fields included (zod would silently strip
 * them, and a field nobody declared is one nobody reviewed for leaking).
 */
export function checkResponse(route: Pick<ApiRoute, 'method' | 'path' | 'response'>, body: unknown): void {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const parsed = route.response.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ResponseSchemaError(`${where} answered "${issue?.path.join('.')}": ${issue?.message}`);
  }
  const extra = undeclared(body, parsed.data, '');
  if (extra !== undefined) throw new ResponseSchemaError(`${where} answered an undeclared field "${extra}"`);
}

/** The path of the first key in `sent` that parsing dropped, if any. */
function undeclared(sent: unknown, kept: unknown, path: string): string | undefined {
  if (Array.isArray(sent) && Array.isArray(kept)) {
    for (const [i, item] of sent.entries()) {
      const found = undeclared(item, kept[i], `${path}${path ? '.' : ''}${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isPlainObject(sent) || !isPlainObject(kept)) return undefined;
  for (const [key, value] of Object.entries(sent)) {
    const at = `${path}${path ? '.' : ''}${key}`;
    // An undefined value is not sent (JSON drops it), so it leaks nothing.
    if (!(key in kept)) {
      if (value !== undefined) return at;
      continue;
    }
    const found = undeclared(value, kept[key], at);
    if (found !== undefined) return found;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Serves the declared routes. Everything under /api answers JSON in one error shape, 404 included;
 * other paths pass through to the rest of the app.
 *
 * Routes are grouped by their first segment after /api/ (`organizations`, `dust`, ...), one router
 * per group, chosen by a map lookup: a request is matched against its group's few routes instead of
 * every route's pattern in turn, which was most of the dispatch cost of a cheap /api request. Within
 * a group @koa/router matches as before (declaration order, HEAD for GET, an optional trailing
 * slash, case-insensitive), and its paths cannot match another group's. A route without a body
 * schema runs no JSON parser: nothing reads its body, and the input rule has already refused a
 * malformed or oversized one.
 */
export function mountApiRoutes(
  routes: ApiRoute[],
  requireScopes: (...scopes: string[]) => Middleware,
  options: { checkResponses: boolean },
): Middleware {
  const parser = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' });
  const json: Middleware = async (ctx, next) => {
    try {
      await parser(ctx, async () => {});
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 413) throw new ApiError(413, 'request_too_large', 'The request body is larger than 64 kB.');
      throw new ApiError(400, 'invalid_request', 'The request body is not valid JSON.');
    }
    await next();
  };
  const groups = new Map<string, Router>();
  const declared: { route: ApiRoute; group: string; run: (ctx: Context) => Promise<void> }[] = [];
  for (const route of routes) {
    const group = groupOf(route.path);
    if (group === undefined || !/^[\w-]+$/.test(group))
      throw new Error(
        `API route ${route.path}: the segment after /api/ must be a literal (it selects the route group)`,
      );
    const router = groups.get(group.toLowerCase()) ?? new Router();
    groups.set(group.toLowerCase(), router);
    const handle: Middleware = async (ctx) => {
      // Koa parses the query string when `ctx.query` is read: only for a route that declares one.
      const params = route.params ? parse(route.params, ctx.params, 'path parameter') : undefined;
      const query = route.query ? parse(route.query, ctx.query, 'query parameter') : undefined;
      const body = route.body ? parse(route.body, ctx.request.body, 'body') : undefined;
      const result = await route.handler(ctx, { params, query, body });
      ctx.status = route.status ?? 200;
      if (ctx.status === 204) return;
      if (options.checkResponses) checkResponse(route, result);
      // What Koa would send for the object (its type 'json', JSON.stringify without spaces), with
      // the type named directly rather than looked up through mime-types on every answer.
      ctx.set('Content-Type', JSON_TYPE);
      ctx.body = JSON.stringify(result);
    };
    const guard = requireScopes(...route.scopes);
    if (route.body) router[route.method](route.path, guard, json, handle);
    else router[route.method](route.path, guard, handle);
    const last = async () => {};
    const run = route.body
      ? (ctx: Context) => guard(ctx, () => json(ctx, () => handle(ctx, last))) as Promise<void>
      : (ctx: Context) => guard(ctx, () => handle(ctx, last)) as Promise<void>;
    declared.push({ route, group: group.toLowerCase(), run });
  }
  const literal = literalRoutes(declared, groups);
  const dispatchers = new Map([...groups].map(([group, router]) => [group, router.routes() as unknown as Middleware]));
  const none = async () => {};
  return (ctx, next) => {
    const path = ctx.path;
    if (path !== '/api' && !path.startsWith('/api/')) return next();
    const direct = literal.get(`${ctx.method} ${path}`);
    if (direct) {
      // What @koa/router sets for a route without parameters; the request frame logs and counts by _matchedRoute.
      const routed = ctx as Context & { _matchedRoute?: string; routerPath?: string; captures?: string[] };
      ctx.params = {};
      (ctx.request as { params?: Record<string, string> }).params = ctx.params;
      routed.captures = [];
      routed.routerPath = direct.route.path;
      routed._matchedRoute = direct.route.path;
      return apiErrors(ctx, () => direct.run(ctx));
    }
    const dispatch = dispatchers.get(groupOf(path)?.toLowerCase() ?? '');
    return apiErrors(ctx, () => (dispatch ? dispatch(ctx, none) : none()));
  };
}

type RouterLayer = { path: string; methods: string[]; match(path: string): boolean };

/**
 * Routes without parameters, found by one map lookup on `METHOD path` instead of @koa/router's match
 * against each of the group's patterns and the middleware chain it builds per request. Only where
 * that lookup cannot disagree with the router: the path exactly as declared (or with one trailing
 * slash; any other spelling, another case for one, goes to the router), GET's route for HEAD too
 * (as @koa/router adds), and only a route that no other route of its group, of any method, matches:
 * where two could, the router's declaration order decides, as before.
 */
function literalRoutes(
  declared: { route: ApiRoute; group: string; run: (ctx: Context) => Promise<void> }[],
  groups: Map<string, Router>,
) {
  const table = new Map<string, { route: ApiRoute; run: (ctx: Context) => Promise<void> }>();
  for (const entry of declared) {
    const { path, method } = entry.route;
    if (!/^[\w/.~-]+$/.test(path) || path.endsWith('/')) continue;
    const methods = method === 'get' ? ['GET', 'HEAD'] : [method.toUpperCase()];
    // The router runs every layer whose path and method match (a layer without methods is
    // middleware, run for any); any such layer besides this route's own keeps it on the router.
    const layers = (groups.get(entry.group) as unknown as { stack: RouterLayer[] }).stack;
    const own = layers.filter((layer) => layer.path === path && layer.methods.includes(method.toUpperCase()));
    const rival = layers.some(
      (layer) =>
        layer !== own[0] &&
        (layer.methods.length === 0 || layer.methods.some((verb) => methods.includes(verb))) &&
        (layer.match(path) || layer.match(`${path}/`)),
    );
    if (own.length !== 1 || rival) continue;
    for (const verb of methods) {
      table.set(`${verb} ${path}`, entry);
      table.set(`${verb} ${path}/`, entry);
    }
  }
  return table;
}

/** `organizations` for /api/organizations/:id/members (and for /api/organizations/ and /api/organizations). */
export function groupOf(path: string): string | undefined {
  if (!path.startsWith('/api/')) return undefined;
  const end = path.indexOf('/', 5);
  return path.slice(5, end === -1 ? undefined : end);
}

const JSON_TYPE = 'application/json; charset=utf-8';

function parse(schema: z.ZodType, value: unknown, where: string) {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? `${where} "${issue.path.join('.')}"` : where;
  throw new ApiError(400, 'invalid_request', `Invalid ${field}: ${issue?.message ?? 'not valid'}`);
}

export type OpenApiOperation = {
  summary: string;
  tags: string[];
  security: { bearer: string[] }[];
  [key: string]: unknown;
};
export type OpenApiDocument = ReturnType<typeof openApiDocument>;

/** OpenAPI 3.1 for the declared routes; 3.1 schemas are JSON Schema 2020-12, which zod emits. */
export function openApiDocument(routes: ApiRoute[], info: { issuer: string; version: string }) {
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const parameters = [...objectParameters(route.params, 'path'), ...objectParameters(route.query, 'query')];
    const operations = paths[path] ?? {};
    paths[path] = operations;
    operations[route.method] = {
      summary: route.summary,
      tags: [route.tag],
      security: [{ bearer: route.scopes }],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [String(route.status ?? 200)]:
          route.status === 204
            ? { description: 'Done' }
            : {
                description: 'Success',
                content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
              },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'FairyID API',
      version: info.version,
      description: `Call with an access token issued for the resource ${info.issuer}/api.`,
    },
    servers: [{ url: info.issuer }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'openIdConnect',
          openIdConnectUrl: `${info.issuer}/.well-known/openid-configuration`,
          description: `RFC 9068 JWT access tokens for the resource ${info.issuer}/api`,
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'error_description'],
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
      },
    },
  };
}

/**
 * A zod schema's JSON Schema, by the schema and the side documented. zod schemas never change once
 * made, and most routes declare theirs once per module, so every server of a process (the test
 * suite starts hundreds) shares one frozen conversion instead of paying zod for it again.
 */
const converted = { input: new WeakMap<z.ZodType, object>(), output: new WeakMap<z.ZodType, object>() };

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  let result = converted[io].get(schema);
  if (!result) {
    result = deepFrozen(z.toJSONSchema(schema, { io, unrepresentable: 'any' }));
    converted[io].set(schema, result);
  }
  return result as Record<string, unknown>;
}

/** Requests are documented as the caller writes them (before defaults and transforms), responses as sent. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _, ...rest } = toJsonSchema(schema, io);
  return rest;
}

function objectParameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const object = toJsonSchema(schema, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}
