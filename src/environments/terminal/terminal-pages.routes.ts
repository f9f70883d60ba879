import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { apiErrors } from '../../http/api-errors.ts';
import { jsonErrors, ScriptError } from '../../http/json-errors.ts';
import { text, translator } from '../../i18n/translator.ts';
import { csrfProtection } from '../../http/csrf.ts';
import type { Renderer } from '../../http/render.ts';
import { pageLocale } from '../../http/page-locale.ts';
import { allowStyleNonce } from '../../http/security-headers.ts';
import { PAGES_CLIENT_ID, type PageSession } from '../../http/page-session.ts';
import { requirePerson } from '../../oidc/caller.ts';
import { ApiError } from '../../shared/api-error.ts';
import { decodeCursor, encodeCursor } from '../../shared/cursor.ts';
import type { EnvironmentService } from '../environment.service.ts';
import type { EnvironmentEvent } from '../environment.table.ts';
import { trailText } from '../trail-text.ts';
import { tmuxSessionName } from './terminal.routes.ts';
import type { Terminals } from './terminals.ts';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** SSE comments keep proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

const notFound = () => new ApiError(404, 'environment_not_found', 'No such environment.');

/** An entry's message as stored: English, for developers (the API). */
const storedMessage = (row: EnvironmentEvent) => row.message ?? row.kind.replace(/_/g, ' ');

/**
 * The environment's trail as Server-Sent Events (provisioning steps, the machine's cloud-init output,
 * readiness, warnings of what the machine could not apply, stops), each with its cursor as the event
 * id, so a reconnecting EventSource sends Last-Event-ID and gets only what it has not seen. `say`
 * gives each entry's `message`.
 */
async function streamLogs(
  ctx: Context,
  service: EnvironmentService,
  accountId: string,
  environmentId: string,
  pollMs: number,
  say: (row: EnvironmentEvent) => string,
) {
  // Throws the API's 404/403 before the stream starts.
  await service.events(accountId, environmentId, { cursor: undefined, limit: 1 });
  const header = ctx.get('last-event-id');
  let cursor = header ? decodeCursor(header) : undefined;
  if (header && !cursor) throw new ApiError(400, 'invalid_request', 'Last-Event-ID is not an event id of this stream.');
  // Written straight to the socket: Koa would treat a client hanging up on a piped body as an error.
  ctx.respond = false;
  ctx.req.setTimeout(0);
  const stream = ctx.res;
  stream.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
  });
  let open = true;
  const stop = () => {
    open = false;
  };
  ctx.req.on('close', stop);
  stream.on('close', stop);
  stream.write(`retry: 2000\n\n`);
  void (async () => {
    let quietSince = Date.now();
    while (open) {
      const rows = await service.events(accountId, environmentId, { cursor, limit: 100 }).catch(() => undefined);
      if (!rows) break;
      for (const row of rows.slice(0, 100)) {
        const data = {
          kind: row.kind,
          state: row.to_state,
          message: say(row),
          detail: row.detail,
          at: row.created_at.toISOString(),
        };
        stream.write(`id: ${encodeCursor(row)}\ndata: ${JSON.stringify(data)}\n\n`);
        cursor = { at: row.created_at.toISOString(), id: row.id };
        quietSince = Date.now();
      }
      if (Date.now() - quietSince > KEEP_ALIVE_MS) {
        stream.write(': keep-alive\n\n');
        quietSince = Date.now();
      }
      if (rows.length <= 100) await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    stream.end();
  })();
}

/** GET /api/environments/{id}/logs (scope environments:read): Server-Sent Events; not in the JSON OpenAPI routes. */
export function environmentLogRoutes(deps: {
  service: EnvironmentService;
  requireScopes(...scopes: string[]): Middleware;
  pollMs: number;
}) {
  const router = new Router();
  router.get('/api/environments/:id/logs', apiErrors, deps.requireScopes('environments:read'), async (ctx) => {
    const id = ctx.params.id ?? '';
    if (!ID.test(id)) throw notFound();
    await streamLogs(ctx, deps.service, requirePerson(ctx.state), id, deps.pollMs, storedMessage);
  });
  return router.routes();
}

/**
 * `/account/environments/{id}/terminal`: xterm.js over the terminal WebSocket, its ticket through
 * the signed-in page session (CSRF header), and the provisioning log while the machine starts.
 */
export function terminalPageRoutes(deps: {
  service: EnvironmentService;
  terminals: Terminals;
  session: PageSession;
  renderer: Renderer;
  pollMs: number;
}) {
  const router = new Router({ prefix: '/account/environments/:id' });
  router.use(csrfProtection);

  router.get('/terminal', async (ctx) => {
    const id = ctx.params.id ?? '';
    const current = await deps.session.require(
      ctx,
      ID.test(id) ? `/account/environments/${id}/terminal` : '/account/environments',
    );
    if (!current) return;
    if (!ID.test(id)) return ctx.redirect('/account/environments');
    const environment = await deps.service.usable(current.accountId, id).catch(() => undefined);
    if (!environment) return ctx.redirect('/account/environments');
    await deps.renderer.render(ctx, 'account-environment-terminal', {
      styleNonce: allowStyleNonce(ctx),
      id,
      name: environment.name,
      state: environment.state,
    });
  });

  router.post('/terminal/ticket', async (ctx) => {
    const current = await deps.session.signedIn(ctx);
    // The page's script shows a refusal to the person: in the page's language (json-errors.ts).
    await jsonErrors(ctx, async () => {
      if (!current) throw new ScriptError(401, 'sign_in_required', text('notices.terminal.signInAgain'));
      const id = ctx.params.id ?? '';
      if (!ID.test(id)) throw notFound();
      const tmux = tmuxSessionName.safeParse(ctx.query.tmux_session ?? 'main');
      ctx.status = 201;
      // The terminal lives as long as this sign-in: its grant and its session are checked while it is open.
      ctx.body = await deps.terminals.issueTicket({
        environmentId: id,
        accountId: current.accountId,
        clientId: PAGES_CLIENT_ID,
        grantId: current.pagesGrantId,
        sessionUid: current.sessionUid,
        tmux: tmux.success ? tmux.data : 'main',
      });
    });
  });

  router.get('/logs', async (ctx) => {
    const accountId = await deps.session.accountId(ctx);
    await jsonErrors(ctx, async () => {
      if (!accountId) throw new ScriptError(401, 'sign_in_required', text('notices.terminal.signInForLog'));
      const id = ctx.params.id ?? '';
      if (!ID.test(id)) throw notFound();
      // The page's log speaks the page's language (the EventSource sends the page's Accept-Language):
      // FairyID's own entries are worded from their kind and detail; the machine's output stays as printed.
      const words = translator(pageLocale(ctx));
      ctx.set('Content-Language', words.locale);
      ctx.vary('Accept-Language');
      await streamLogs(ctx, deps.service, accountId, id, deps.pollMs, (row) => {
        const said = trailText(row);
        return said ? words.t(said) : storedMessage(row);
      });
    });
  });

  return router.routes();
}
