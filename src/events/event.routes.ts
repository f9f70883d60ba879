import Router from '@koa/router';
import type { OpenApiDocument } from '../http/api-route.ts';
import { eventSchemas } from './event-catalog.ts';

const PATH = '/api/events/schemas';

/** The event catalog as JSON Schema: public, like the OpenAPI document it is also part of. */
export function eventSchemaRoutes() {
  const router = new Router();
  const body = JSON.stringify(eventSchemas());
  router.get(PATH, (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  return router.routes();
}

/**
 * The OpenAPI document with the catalog in it: one component schema per event type
 * (`Event.<type>`). The catalog's own route stays out of `paths`: every operation there takes a
 * bearer token, and this one is public.
 */
export function withEventSchemas<D extends OpenApiDocument>(document: D): D {
  const components = document.components.schemas as Record<string, unknown>;
  for (const event of eventSchemas().events) components[`Event.${event.type}`] = event.schema;
  return document;
}
