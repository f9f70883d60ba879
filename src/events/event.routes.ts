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
 * The OpenAPI document with the catalog in it: one component schema per event type (`Event.<type>`)
 * and the operation that serves them all.
 */
export function withEventSchemas<D extends OpenApiDocument>(document: D): D {
  const catalog = eventSchemas();
  const components = document.components.schemas as Record<string, unknown>;
  for (const event of catalog.events) components[`Event.${event.type}`] = event.schema;
  document.paths[PATH] = {
    get: {
      summary: 'The event catalog: a JSON Schema per event that webhooks and the broker deliver',
      tags: ['Events'],
      security: [],
      responses: {
        200: {
          description: 'The catalog',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['version', 'events'],
                properties: {
                  version: { type: 'string' },
                  events: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['type', 'version', 'schema'],
                      properties: {
                        type: { type: 'string' },
                        version: { type: 'integer' },
                        schema: { type: 'object' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
  return document;
}
