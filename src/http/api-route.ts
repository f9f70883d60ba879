import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import { z } from 'zod';
import { ApiError } from '../shared/api-error.ts';
import { apiErrors } from './api-errors.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One declaration per /api route: the zod schemas here validate the request and generate the
 * OpenAPI document, so the document cannot drift from what the code accepts.
 */
export type ApiRoute<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
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
  response: z.ZodType;
  status?: number;
  handler(ctx: Context, input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> }): Promise<unknown>;
};

export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  route: ApiRoute<P, Q, B>,
): ApiRoute {
  return route as unknown as ApiRoute;
}

/**
 * Serves the declared routes. Everything under /api answers JSON in one error shape, 404 included;
 * other paths pass through to the rest of the app.
 */
export function mountApiRoutes(routes: ApiRoute[], requireScopes: (...scopes: string[]) => Middleware): Middleware {
  const router = new Router();
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
  for (const route of routes) {
    router[route.method](route.path, requireScopes(...route.scopes), json, async (ctx) => {
      const params = parse(route.params, ctx.params, 'path parameter');
      const query = parse(route.query, ctx.query, 'query parameter');
      const body = parse(route.body, route.body ? ctx.request.body : undefined, 'body');
      const result = await route.handler(ctx, { params, query, body });
      ctx.status = route.status ?? 200;
      if (ctx.status !== 204) ctx.body = result;
    });
  }
  const dispatch = router.routes() as unknown as Middleware;
  return (ctx, next) => {
    if (ctx.path !== '/api' && !ctx.path.startsWith('/api/')) return next();
    return apiErrors(ctx, () => dispatch(ctx, async () => {}));
  };
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string) {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length ? `${where} "${issue.path.join('.')}"` : where;
  throw new ApiError(400, 'invalid_request', `Invalid ${field}: ${issue.message}`);
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
    paths[path] ??= {};
    paths[path]![route.method] = {
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
      description: 'Call with an access token issued for the resource ISSUER/api.',
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

/** Requests are documented as the caller writes them (before defaults and transforms), responses as sent. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function objectParameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const object = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
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
