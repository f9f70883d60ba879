import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountSessionService, ProviderSessions } from '../accounts/account-session.service.ts';
import type { AccountSession } from '../accounts/account-session.table.ts';
import { csrfProtection } from '../http/csrf.ts';
import { pageLocale } from '../http/page-locale.ts';
import type { Locale } from '../i18n/locales.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import { describeDevice } from './device-description.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/sessions';
const NOTICES: Record<string, Text> = {
  one: text('notices.deviceSignedOut'),
  others: text('notices.othersSignedOut'),
};
const NOT_YOURS = text('notices.deviceNotSignedIn');

/**
 * `/account/sessions`: where the person is signed in, and signing devices out. Signing out this
 * device goes through the provider's own logout (/session/end); other devices are ended here.
 */
export function sessionPageRoutes(deps: {
  accountSessions: AccountSessionService;
  providerSessions: ProviderSessions;
  session: PageSession;
  renderer: Renderer;
}) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const present = (row: AccountSession, current: SignedIn, locale: Locale) => ({
    uid: row.session_uid,
    device: describeDevice(row.user_agent),
    ip: row.ip ?? text('notices.unknownIp'),
    signedInAt: shownTime(row.created_at, locale),
    lastSeen: shownTime(row.last_seen_at, locale),
    current: row.session_uid === current.sessionUid,
  });

  const renderPage = async (
    ctx: Context,
    current: SignedIn,
    messages: { notice?: Text | undefined; error?: Text },
    status = 200,
  ) => {
    const locale = pageLocale(ctx);
    const rows = (await deps.accountSessions.listLive(current.accountId, deps.providerSessions)).map((row) =>
      present(row, current, locale),
    );
    // This device first, then the others by when they were last used.
    const sessions = [...rows.filter((row) => row.current), ...rows.filter((row) => !row.current)];
    await deps.renderer.render(
      ctx,
      'account-sessions',
      { sessions, others: rows.some((row) => !row.current), ...messages },
      status,
    );
  };

  const signedOutTo = (ctx: Context, notice: keyof typeof NOTICES) => {
    ctx.status = 303;
    ctx.redirect(`${PAGE}?signed-out=${notice}`);
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    await deps.accountSessions.touch(current.sessionUid);
    const notice = typeof ctx.query['signed-out'] === 'string' ? NOTICES[ctx.query['signed-out']] : undefined;
    await renderPage(ctx, current, { notice });
  });

  router.post('/sign-out', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const sessionUid = (ctx.request.body as Record<string, unknown>).session;
    if (sessionUid === current.sessionUid) {
      // This device signs out through the provider's logout, which also tells this device's apps.
      ctx.status = 303;
      ctx.redirect('/session/end');
      return;
    }
    const ended =
      typeof sessionUid === 'string' &&
      (await deps.accountSessions.signOut(current.accountId, sessionUid, requestOrigin(ctx), deps.providerSessions));
    if (!ended) {
      await renderPage(ctx, current, { error: NOT_YOURS }, 404);
      return;
    }
    signedOutTo(ctx, 'one');
  });

  router.post('/sign-out-others', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    await deps.accountSessions.signOutOthers(
      current.accountId,
      current.sessionUid,
      requestOrigin(ctx),
      deps.providerSessions,
    );
    signedOutTo(ctx, 'others');
  });

  return router.routes();
}
