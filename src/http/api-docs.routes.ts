import Router from '@koa/router';
import type { OpenApiDocument } from './api-route.ts';
import type { Renderer } from './render.ts';

/** The OpenAPI document (public, like discovery) and a page that reads it for people. */
export function apiDocsRoutes(document: OpenApiDocument, renderer: Renderer) {
  const router = new Router();
  const body = JSON.stringify(document);
  router.get('/api/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      summary: operation.summary,
      tag: operation.tags[0] ?? '',
      scopes: operation.security[0]?.bearer ?? [],
    })),
  );
  router.get('/docs/api', async (ctx) => {
    await renderer.render(ctx, 'api-reference', { operations });
  });
  return router.routes();
}
