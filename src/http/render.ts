import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export type Renderer = {
  render(ctx: Context, view: string, data?: Record<string, unknown>, status?: number): Promise<void>;
};

/**
 * Server-rendered pages: eta templates in views/, escaped by default, compiled once, except in
 * development where an edited template shows on the next request.
 */
export function createRenderer(options: { reloadTemplates: boolean }): Renderer {
  const eta = new Eta({
    views: VIEWS_DIR,
    cache: !options.reloadTemplates,
    autoEscape: true,
    defaultExtension: '.eta',
  });
  return {
    async render(ctx, view, data = {}, status = 200) {
      const html = await eta.renderAsync(view, { csrf: ctx.state.csrf, ...data });
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = html;
    },
  };
}
