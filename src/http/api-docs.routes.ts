import Router from '@koa/router';
import { apiReference } from './api-reference.ts';
import type { OpenApiDocument } from './api-route.ts';
import type { Renderer } from './render.ts';

/** The OpenAPI document (public, like discovery) and the reference page made from it for people. */
export function apiDocsRoutes(document: OpenApiDocument, renderer: Renderer) {
  const router = new Router();
  // Both made at their first request, once: most servers (every test's) are never asked for them.
  let body: string | undefined;
  router.get('/api/openapi.json', (ctx) => {
    body ??= JSON.stringify(document);
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
  let sections: ReturnType<typeof referenceSections> | undefined;
  const resource = `${document.servers[0]?.url ?? ''}/api`;
  router.get('/docs/api', async (ctx) => {
    sections ??= referenceSections(document);
    await renderer.render(ctx, 'api-reference', { sections, resource });
  });
  return router.routes();
}

/** Paths split at their slashes, so that a phone breaks a long one there and nowhere else. */
function referenceSections(document: OpenApiDocument) {
  return apiReference(document).map((section) => ({
    ...section,
    operations: section.operations.map((operation) => ({ ...operation, pathParts: operation.path.split('/') })),
  }));
}
