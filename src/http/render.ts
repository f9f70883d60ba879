import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';
import type { MessageKey } from '../i18n/catalog.ts';
import { isText, type Params, type Text, translator } from '../i18n/translator.ts';
import { pageLocale } from './page-locale.ts';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export type Renderer = {
  render(ctx: Context, view: string, data?: Record<string, unknown>, status?: number): Promise<void>;
};

/**
 * eta over views/, by whether templates are read again at each render. The compiled templates depend
 * on nothing else, so every renderer of a process shares them: a server compiles a view only if
 * none before it in the process did (the test suite starts hundreds of servers in a few processes).
 */
const etas = new Map<boolean, Eta>();

function etaFor(reloadTemplates: boolean): Eta {
  let eta = etas.get(reloadTemplates);
  if (!eta) {
    eta = new Eta({ views: VIEWS_DIR, cache: !reloadTemplates, autoEscape: true, defaultExtension: '.eta' });
    etas.set(reloadTemplates, eta);
  }
  return eta;
}

/**
 * Server-rendered pages: eta templates in views/, escaped by default, compiled once, except in
 * development where an edited template shows on the next request.
 */
export function createRenderer(options: { reloadTemplates: boolean }): Renderer {
  const eta = etaFor(options.reloadTemplates);
  return {
    async render(ctx, view, given = {}, status = 200) {
      const words = translator(pageLocale(ctx));
      const data = translated(given, words.t) as Record<string, unknown>;
      // Templates get the reader's translator: `it.t(key, params)`, and `it.say(value)` for data
      // that a route passes either as a Text or as words that are not language (a name, an address).
      const say = (value: string | Text) => (isText(value) ? words.t(value) : value);
      // `it.tHtml(key, params)`, printed raw (`<%~ %>`): for messages whose catalog text carries markup
      // (<strong>, <code>, a link) around a value. The catalogs are ours; the values are not, so they
      // are escaped before they are filled in, except what a template made itself and says so with
      // `it.markup(html)` (a partial's output, say, a <time> element).
      const fill = (value: unknown): Params[string] =>
        value instanceof Markup
          ? value.html
          : isText(value)
            ? escapeHtml(words.t(value))
            : typeof value === 'string'
              ? escapeHtml(value)
              : (value as Params[string]);
      const tHtml = (key: MessageKey, params: Record<string, Params[string] | Markup> = {}) =>
        words.t(key, Object.fromEntries(Object.entries(params).map(([name, value]) => [name, fill(value)])));
      // Partials see all of this too: eta's include() lays its data over the including template's.
      const html = await eta.renderAsync(view, {
        csrf: ctx.state.csrf,
        locale: words.locale,
        t: words.t,
        say,
        tHtml,
        markup: (html: string) => new Markup(html),
        formatNumber: words.formatNumber,
        formatDateTime: words.formatDateTime,
        ...data,
      });
      ctx.set('Content-Language', words.locale);
      ctx.vary('Accept-Language');
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = html;
    },
  };
}

/**
 * The data with every Text in it (a problem, a notice, a list of labels) already in the reader's
 * language, so that a template printing a value as it is shows words, never an object.
 */
function translated(value: unknown, say: (text: Text) => string): unknown {
  if (isText(value)) return say(value);
  if (Array.isArray(value)) return value.map((item) => translated(item, say));
  if (value === null || typeof value !== 'object') return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, translated(item, say)]));
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML a template rendered itself, to be filled into a message as it is. */
class Markup {
  readonly html: string;

  constructor(html: string) {
    this.html = html;
  }
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}
