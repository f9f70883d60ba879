import Router from '@koa/router';
import type { AuditService } from '../audit/audit.service.ts';
import type { Renderer } from '../http/render.ts';
import type { PageSession } from '../http/page-session.ts';
import type { ClientRepository } from '../oidc/client.repository.ts';
import { pageLocale } from '../http/page-locale.ts';
import { text } from '../i18n/translator.ts';
import { describeDetail, eventLabel } from './activity-labels.ts';
import { describeDevice } from './device-description.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/activity';
const SHOWN = 30;

/** `/account/activity`: the person's own recent security events from the audit trail. */
export function activityPageRoutes(deps: {
  audit: AuditService;
  clients: Pick<ClientRepository, 'find'>;
  session: PageSession;
  renderer: Renderer;
}) {
  const router = new Router();

  router.get(PAGE, async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const events = await deps.audit.recentFor(current.accountId, SHOWN);
    const clientIds = [...new Set(events.map((event) => event.client_id).filter((id) => id !== null))];
    const clientNames = new Map(
      await Promise.all(
        clientIds.map(
          async (id) => [id, (await deps.clients.find(id))?.client_name ?? text('notices.removedApp')] as const,
        ),
      ),
    );
    const locale = pageLocale(ctx);
    await deps.renderer.render(ctx, 'account-activity', {
      events: events.map((event) => {
        const failed = event.outcome === 'failure';
        const app = event.client_id ? clientNames.get(event.client_id) : undefined;
        return {
          label: eventLabel(event.event, failed, event.detail, app),
          failed,
          app,
          facts: describeDetail(event.detail, locale),
          at: shownTime(event.created_at, locale),
          ip: event.ip ?? text('notices.unknownIp'),
          device: describeDevice(event.user_agent),
        };
      }),
    });
  });

  return router.routes();
}
