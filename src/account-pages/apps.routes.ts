import type { AuditService } from '../audit/audit.service.ts';
import { formPage } from '../http/form-page.ts';
import { text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession } from '../http/page-session.ts';
import { describeScopes } from '../interaction/scope-descriptions.ts';
import { ORGANIZATION_SCOPE } from '../oidc/configuration.ts';
import type { ConnectedAppService } from '../oidc/connected-app.service.ts';
import { CONFIRM_VIEW, type ConfirmStep, confirmed } from './confirm-step.ts';
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
  const { router, render: renderPage } = formPage(PAGE, {
    renderer: deps.renderer,
    view: 'account-apps',
    data: async (current, locale) => ({
      apps: (await deps.connectedApps.list(current.accountId)).map((app) => ({
        clientId: app.clientId,
        name: app.name ?? text('notices.removedApp'),
        // "Acts for <organization>" says what the organization scope allowed, better than the consent page's wording.
        access: describeScopes(
          app.organizations.length ? app.scopes.filter((scope) => scope !== ORGANIZATION_SCOPE) : app.scopes,
        ),
        organizations: app.organizations.map((name) => name ?? text('notices.formerOrganization')),
        since: shownTime(app.since, locale),
      })),
    }),
  });

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    await renderPage(ctx, current, { notice: ctx.query.disconnected === '1' ? DISCONNECTED : undefined });
  });

  router.post('/disconnect', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const clientId = (ctx.request.body as Record<string, unknown>).client;
    if (!confirmed(ctx.request.body)) {
      const app =
        typeof clientId === 'string' &&
        (await deps.connectedApps.list(current.accountId)).find((connected) => connected.clientId === clientId);
      if (!app) return renderPage(ctx, current, { error: NOT_CONNECTED }, 404);
      const step: ConfirmStep = {
        kind: 'app',
        nav: 'apps',
        name: app.name ?? text('notices.removedApp'),
        action: `${PAGE}/disconnect`,
        fields: { client: app.clientId },
        back: PAGE,
      };
      return deps.renderer.render(ctx, CONFIRM_VIEW, step);
    }
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
