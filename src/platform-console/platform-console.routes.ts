import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { AUDIT_EVENT_NAMES } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { pageLocale } from '../http/page-locale.ts';
import type { MessageKey } from '../i18n/catalog.ts';
import { type Text, text, translator } from '../i18n/translator.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { satisfies } from '../oidc/authentication-policy.ts';
import { ORGANIZATION_STATUSES, type OrganizationStatus } from '../organizations/permissions.ts';
import { ApiError } from '../shared/api-error.ts';
import { decodeCursor, toPage } from '../shared/cursor.ts';
import {
  presentAccount,
  presentAuditEvent,
  presentClient,
  presentKey,
  presentOrganization,
  presentSession,
} from './console-views.ts';
import type { PlatformConsoleService } from './platform-console.service.ts';

const PREFIX = '/platform';
/** How recent the owner's second factor must be: older, and the console asks for it again (step-up). */
export const RECENT_SECOND_FACTOR_SECONDS = 15 * 60;
const PAGE_SIZE = 25;
const UTC_FORMAT: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' };
const REASON_MAX = 500;
const SEARCH_MAX = 320;

/** What a finished action says on the page it returns to (`?done=`). */
const DONE = {
  approved: 'platform.done.approved',
  rejected: 'platform.done.rejected',
  suspended: 'platform.done.suspended',
  account_suspended: 'platform.done.accountSuspended',
  account_reactivated: 'platform.done.accountReactivated',
  keys_rotated: 'platform.done.keysRotated',
  key_retired: 'platform.done.keyRetired',
} as const satisfies Record<string, MessageKey>;

/** Why an action was refused (`?failed=`): the domains' error codes, and the console's own. */
const FAILED: Record<string, MessageKey> = {
  reason_required: 'platform.failed.reasonRequired',
  invalid_status_transition: 'platform.failed.invalidTransition',
  organization_not_found: 'platform.failed.organizationNotFound',
  account_not_found: 'platform.failed.accountNotFound',
  cannot_suspend_yourself: 'platform.failed.notYourself',
  key_not_found: 'platform.failed.keyNotFound',
  key_retired: 'platform.failed.keyRetired',
  key_in_use: 'platform.failed.keyInUse',
  key_retirement_too_early: 'platform.failed.keyTooEarly',
};

type Done = keyof typeof DONE;
const isDone = (value: string): value is Done => Object.hasOwn(DONE, value);
const one = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);
const field = (ctx: Context, name: string) => {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** The page's outcome line, from the query an action redirected with. */
function outcome(ctx: Context) {
  const done = one(ctx.query.done);
  const failed = one(ctx.query.failed);
  return {
    notice: done && isDone(done) ? text(DONE[done]) : undefined,
    error: failed ? text(FAILED[failed] ?? 'platform.failed.other') : undefined,
  };
}

/** Whether the session's second factor was used within RECENT_SECOND_FACTOR_SECONDS. */
function hasRecentSecondFactor(signedIn: SignedIn, nowSeconds: number): boolean {
  // oidc-provider stamps loginTs with the real time when the second factor completes the login.
  return satisfies(signedIn.acr, 'mfa') && nowSeconds - signedIn.loginTs <= RECENT_SECOND_FACTOR_SECONDS;
}

/**
 * `/platform`: the platform owner's console. Someone who is not a signed-in platform owner passes by
 * as if it did not exist (the 404 of any unknown path, for GET and POST alike, before any body is
 * read or CSRF token checked). An owner whose second factor is not recent is sent through sign-in
 * with a second factor (prompt=login, acr_values=mfa) and back.
 */
export function platformConsoleRoutes(deps: {
  console: PlatformConsoleService;
  session: PageSession;
  renderer: Renderer;
}): Middleware {
  const router = new Router({ prefix: PREFIX });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);
  const routes = router.routes();
  const owner = (ctx: Context) => ctx.state.platformOwner as string;

  /** After an action: back to its page with what happened (303, so a reload does not repeat it). */
  const back = (ctx: Context, page: string, result: { done: Done } | { failed: string }) => {
    const url = new URL(page, 'http://console.invalid');
    if ('done' in result) url.searchParams.set('done', result.done);
    else url.searchParams.set('failed', result.failed);
    ctx.status = 303;
    ctx.redirect(`${url.pathname}${url.search}`);
  };

  /** Runs an action over the domain services; their refusals return to the page as its error line. */
  const act = async (ctx: Context, page: string, work: () => Promise<Done>) => {
    try {
      back(ctx, page, { done: await work() });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      back(ctx, page, { failed: error.code });
    }
  };

  const render = (ctx: Context, view: string, nav: string, data: Record<string, unknown>, status = 200) => {
    const words = translator(pageLocale(ctx));
    // Every moment in the console is exact and in UTC, the same for every owner wherever they are.
    const utc = (at: Date) => `${words.formatDateTime(at, UTC_FORMAT)} UTC`;
    return deps.renderer.render(ctx, view, { nav, utc, ...outcome(ctx), ...data }, status);
  };

  router.get('/', (ctx) => {
    ctx.redirect(`${PREFIX}/organizations`);
  });

  router.get('/organizations', async (ctx) => {
    const wanted = one(ctx.query.status);
    const status: OrganizationStatus = ORGANIZATION_STATUSES.find((known) => known === wanted) ?? 'pending';
    const cursorText = one(ctx.query.cursor);
    const cursor = cursorText ? decodeCursor(cursorText) : undefined;
    const rows = await deps.console.organizations(owner(ctx), status, { cursor, limit: PAGE_SIZE });
    const page = toPage(rows, PAGE_SIZE, presentOrganization);
    await render(ctx, 'platform-organizations', 'organizations', {
      status,
      statuses: ORGANIZATION_STATUSES,
      organizations: page.data,
      next: page.next_cursor
        ? `${PREFIX}/organizations?${new URLSearchParams({ status, cursor: page.next_cursor })}`
        : undefined,
    });
  });

  router.post('/organizations/:id/:action', async (ctx) => {
    const action = ctx.params.action;
    const status = ORGANIZATION_STATUSES.find((known) => known === field(ctx, 'status')) ?? 'pending';
    const page = `${PREFIX}/organizations?status=${status}`;
    if (action !== 'approve' && action !== 'reject' && action !== 'suspend') return;
    const reason = field(ctx, 'reason').trim().slice(0, REASON_MAX);
    if (action !== 'approve' && !reason) return back(ctx, page, { failed: 'reason_required' });
    await act(ctx, page, async () => {
      await deps.console.setOrganizationStatus(
        owner(ctx),
        requestOrigin(ctx),
        ctx.params.id ?? '',
        action,
        reason || undefined,
      );
      return action === 'approve' ? 'approved' : action === 'reject' ? 'rejected' : 'suspended';
    });
  });

  router.get('/accounts', async (ctx) => {
    const query = (one(ctx.query.q) ?? '').slice(0, SEARCH_MAX);
    const found = query.trim() ? await deps.console.searchAccounts(owner(ctx), query) : undefined;
    await render(ctx, 'platform-accounts', 'accounts', { query, accounts: found?.map(presentAccount) });
  });

  router.get('/accounts/:id', async (ctx) => {
    const found = await deps.console.account(owner(ctx), ctx.params.id ?? '');
    if (!found) return;
    await render(ctx, 'platform-account', 'accounts', {
      account: presentAccount(found.account),
      yourself: found.account.id === owner(ctx),
      memberships: found.memberships,
      sessions: found.sessions.map(presentSession),
      balance: found.balance,
      events: found.events.map(presentAuditEvent),
      clients: found.clients.map(presentClient),
    });
  });

  router.post('/accounts/:id/suspend', async (ctx) => {
    const page = `${PREFIX}/accounts/${encodeURIComponent(ctx.params.id ?? '')}`;
    const reason = field(ctx, 'reason').trim().slice(0, REASON_MAX);
    if (!reason) return back(ctx, page, { failed: 'reason_required' });
    await act(ctx, page, async () => {
      await deps.console.suspend(owner(ctx), ctx.params.id ?? '', reason);
      return 'account_suspended';
    });
  });

  router.post('/accounts/:id/reactivate', async (ctx) => {
    const page = `${PREFIX}/accounts/${encodeURIComponent(ctx.params.id ?? '')}`;
    await act(ctx, page, async () => {
      await deps.console.reactivate(owner(ctx), ctx.params.id ?? '');
      return 'account_reactivated';
    });
  });

  router.get('/clients', async (ctx) => {
    const clients = await deps.console.clients(owner(ctx));
    await render(ctx, 'platform-clients', 'clients', { clients: clients.map(presentClient) });
  });

  router.get('/clients/:id', async (ctx) => {
    const client = await deps.console.client(owner(ctx), ctx.params.id ?? '');
    if (!client) return;
    await render(ctx, 'platform-client', 'clients', { client: presentClient(client) });
  });

  router.get('/keys', async (ctx) => {
    const keys = await deps.console.keys(owner(ctx));
    await render(ctx, 'platform-keys', 'keys', { keys: keys.map(presentKey) });
  });

  router.post('/keys/rotate', async (ctx) => {
    await act(ctx, `${PREFIX}/keys`, async () => {
      await deps.console.rotateKeys(owner(ctx), requestOrigin(ctx));
      return 'keys_rotated';
    });
  });

  router.post('/keys/retire', async (ctx) => {
    await act(ctx, `${PREFIX}/keys`, async () => {
      await deps.console.retireKey(owner(ctx), requestOrigin(ctx), field(ctx, 'kid'));
      return 'key_retired';
    });
  });

  router.get('/audit', async (ctx) => {
    const filter = auditFilter(ctx.query);
    const cursorText = one(ctx.query.cursor);
    const cursor = cursorText ? decodeCursor(cursorText) : undefined;
    const shown = { ...filter.shown };
    let events: ReturnType<typeof presentAuditEvent>[] = [];
    let next: string | undefined;
    let error: Text | undefined = filter.error;
    if (!error) {
      try {
        const rows = await deps.console.audit(owner(ctx), filter.filter, { cursor, limit: PAGE_SIZE });
        const page = toPage(rows, PAGE_SIZE, presentAuditEvent);
        events = page.data;
        if (page.next_cursor)
          next = `${PREFIX}/audit?${new URLSearchParams({ ...definedOnly(shown), cursor: page.next_cursor })}`;
      } catch (caught) {
        if (!(caught instanceof ApiError)) throw caught;
        error = text('platform.audit.badCursor');
      }
    }
    await render(
      ctx,
      'platform-audit',
      'audit',
      { shown, types: AUDIT_EVENT_NAMES, events, next, error },
      error ? 400 : 200,
    );
  });

  // Outside the router: someone who may not see the console never reaches it, not even its body parser.
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== PREFIX && !ctx.path.startsWith(`${PREFIX}/`)) return next();
    const signedIn = await deps.session.signedIn(ctx);
    if (!signedIn || !(await deps.console.isPlatformOwner(signedIn.accountId))) return next();
    if (!hasRecentSecondFactor(signedIn, Date.now() / 1000)) {
      const returnTo = ctx.method === 'GET' ? ctx.url : pageOfAction(ctx.path);
      if (ctx.method !== 'GET') ctx.status = 303;
      ctx.redirect(await deps.session.signInUrl(returnTo, { forceLogin: true, acrValues: 'mfa' }));
      return;
    }
    ctx.state.platformOwner = signedIn.accountId;
    await routes(ctx as never, next);
  };
}

/** Where an owner sent to step up from a form comes back to: the page the form was on. */
function pageOfAction(path: string): string {
  if (path.startsWith(`${PREFIX}/organizations/`)) return `${PREFIX}/organizations`;
  if (path.startsWith(`${PREFIX}/keys/`)) return `${PREFIX}/keys`;
  const account = /^\/platform\/accounts\/[^/]+/.exec(path);
  return account ? account[0] : PREFIX;
}

const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A day (`2026-12-07`) or a minute (`2026-12-07T08:30`, as datetime-local inputs send), in UTC. */
function instant(value: string | undefined): Date | undefined | 'invalid' {
  if (!value) return undefined;
  if (!DATE.test(value)) return 'invalid';
  const at = new Date(value.includes('T') ? `${value}:00Z` : `${value}T00:00:00Z`);
  return Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1 ? 'invalid' : at;
}

/** The audit page's filters from its query, as shown back in the form and as the trail's filter. */
function auditFilter(query: Record<string, string | string[] | undefined>) {
  const shown = {
    account: one(query.account)?.trim().slice(0, 64) || undefined,
    organization: one(query.organization)?.trim().slice(0, 64) || undefined,
    type: one(query.type) || undefined,
    from: one(query.from)?.slice(0, 16) || undefined,
    to: one(query.to)?.slice(0, 16) || undefined,
  };
  const from = instant(shown.from);
  const to = instant(shown.to);
  const type = AUDIT_EVENT_NAMES.find((known) => known === shown.type);
  let error: Text | undefined;
  if (shown.organization && !UUID.test(shown.organization)) error = text('platform.audit.badOrganization');
  else if (shown.type && !type) error = text('platform.audit.badType');
  else if (from === 'invalid' || to === 'invalid') error = text('platform.audit.badDate');
  return {
    shown,
    error,
    filter: {
      accountId: shown.account,
      organizationId: shown.organization,
      event: type,
      from: from === 'invalid' ? undefined : from,
      to: to === 'invalid' ? undefined : to,
    },
  };
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1]));
}
