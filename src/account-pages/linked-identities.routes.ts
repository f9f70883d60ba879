import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AuditService } from '../audit/audit.service.ts';
import type { FederationService } from '../federation/federation.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';

const PAGE = '/account/providers';
const UNLINKED = 'Unlinked. That account no longer signs you in here.';
const NOT_LINKED = 'That sign-in provider is not linked to your account.';
const LAST_METHOD =
  'This is the only way you sign in. Add an email address, a phone number or a passkey first, then unlink it.';

const date = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
const when = (at: Date) => ({ iso: at.toISOString(), text: date.format(at) });

/** `/account/providers`: the upstream identities that sign in to this account, and unlinking one. */
export function linkedIdentityPageRoutes(deps: {
  federation: FederationService;
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
    const identities = (await deps.federation.linkedTo(current.accountId)).map((identity) => ({
      id: identity.id,
      providerName: identity.providerName,
      upstreamName: identity.display_name,
      email: identity.email,
      linked: when(identity.created_at),
      lastUsed: when(identity.last_used_at),
    }));
    await deps.renderer.render(ctx, 'account-providers', { identities, ...messages }, status);
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    await renderPage(ctx, current, { notice: ctx.query.unlinked === '1' ? UNLINKED : undefined });
  });

  router.post('/unlink', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const id = (ctx.request.body as Record<string, unknown>).identity;
    const result = typeof id === 'string' ? await deps.federation.unlink(current.accountId, id) : 'not_found';
    // Someone else's identity, or one already unlinked: all the same here.
    if (result === 'not_found') return renderPage(ctx, current, { error: NOT_LINKED }, 404);
    if (result === 'last_method') return renderPage(ctx, current, { error: LAST_METHOD }, 409);
    await deps.audit.record({
      event: 'identity_unlinked',
      outcome: 'success',
      origin: requestOrigin(ctx),
      accountId: current.accountId,
      detail: { provider: result.provider },
    });
    ctx.status = 303;
    ctx.redirect(`${PAGE}?unlinked=1`);
  });

  return router.routes();
}
