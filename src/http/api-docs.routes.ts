import Router from '@koa/router';
import { apiReference } from './api-reference.ts';
import type { OpenApiDocument } from './api-route.ts';
import type { Renderer } from './render.ts';

/** The OpenAPI document (public, like discovery) and the reference page made from it for people. */
export function apiDocsRoutes(document: OpenApiDocument, renderer: Renderer) {
  const router = new Router();
  const body = JSON.stringify(document);
  router.get('/api/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  // Paths split at their slashes, so that a phone breaks a long one there and nowhere else.
  const sections = apiReference(document).map((section) => ({
    ...section,
    operations: section.operations.map((operation) => ({ ...operation, pathParts: operation.path.split('/') })),
  }));
  const resource = `${document.servers[0]?.url ?? ''}/api`;
  router.get('/docs/api', async (ctx) => {
    await renderer.render(ctx, 'api-reference', { sections, resource });
  });
  return router.routes();
}
