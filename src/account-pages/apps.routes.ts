import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { pageLocale } from '../http/page-locale.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import { describeScopes } from '../interaction/scope-descriptions.ts';
import { ORGANIZATION_SCOPE } from '../oidc/configuration.ts';
import type { ConnectedAppService } from '../oidc/connected-app.service.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/apps';
const DISCONNECTED = text('notices.appDisconnected');
const NOT_CONNECTED = text('notices.appNotConnected');

/** `/account/apps`: the apps a person has let into their account, and disconnecting one. */
export function appPageRoutes(deps: {
  connectedApps: ConnectedAppService;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
}) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const renderPage = async (
    ctx: Context,
    current: SignedIn,
    messages: { notice?: Text | undefined; error?: Text },
    status = 200,
  ) => {
    const locale = pageLocale(ctx);
    const apps = (await deps.connectedApps.list(current.accountId)).map((app) => ({
      clientId: app.clientId,
      name: app.name ?? text('notices.removedApp'),
      // "Acts for <organization>" says what the organization scope allowed, better than the consent page's wording.
      access: describeScopes(
        app.organizations.length ? app.scopes.filter((scope) => scope !== ORGANIZATION_SCOPE) : app.scopes,
      ),
      organizations: app.organizations.map((name) => name ?? text('notices.formerOrganization')),
      since: shownTime(app.since, locale),
    }));
    await deps.renderer.render(ctx, 'account-apps', { apps, ...messages }, status);
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    await renderPage(ctx, current, { notice: ctx.query.disconnected === '1' ? DISCONNECTED : undefined });
  });

  router.post('/disconnect', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const clientId = (ctx.request.body as Record<string, unknown>).client;
    const revoked =
      typeof clientId === 'string' ? await deps.connectedApps.disconnect(current.accountId, clientId) : [];
    // Someone else's app, an app this person never connected, or one already disconnected: all the same here.
    if (!revoked.length) return renderPage(ctx, current, { error: NOT_CONNECTED }, 404);
    await deps.audit.record({
      event: 'grant_revoked',
      outcome: 'success',
      origin: requestOrigin(ctx),
      accountId: current.accountId,
      clientId: clientId as string,
      detail: { grant_ids: revoked },
    });
    ctx.status = 303;
    ctx.redirect(`${PAGE}?disconnected=1`);
  });

  return router.routes();
}
