import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import { describeScopes } from '../interaction/scope-descriptions.ts';
import { ORGANIZATION_SCOPE } from '../oidc/configuration.ts';
import type { ConnectedAppService } from '../oidc/connected-app.service.ts';
import { CONFIRM_VIEW, type ConfirmStep, confirmed } from './confirm-step.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/apps';
const DISCONNECTED = 'The app is disconnected. It can no longer use your account, and must ask you again to connect.';
const NOT_CONNECTED = 'That app is not connected to your account.';

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
    messages: { notice?: string | undefined; error?: string },
    status = 200,
  ) => {
    const apps = (await deps.connectedApps.list(current.accountId)).map((app) => ({
      clientId: app.clientId,
      name: app.name,
      // "Acts for <organization>" says what the organization scope allowed, better than the consent page's wording.
      access: describeScopes(
        app.organizations.length ? app.scopes.filter((scope) => scope !== ORGANIZATION_SCOPE) : app.scopes,
      ),
      organizations: app.organizations,
      since: shownTime(app.since),
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
    if (!confirmed(ctx.request.body)) {
      const app =
        typeof clientId === 'string' &&
        (await deps.connectedApps.list(current.accountId)).find((connected) => connected.clientId === clientId);
      if (!app) return renderPage(ctx, current, { error: NOT_CONNECTED }, 404);
      const step: ConfirmStep = {
        kind: 'app',
        nav: 'apps',
        name: app.name,
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
