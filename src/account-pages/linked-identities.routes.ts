import type { AuditService } from '../audit/audit.service.ts';
import type { FederationService } from '../federation/federation.service.ts';
import { UpstreamFailure } from '../federation/upstream-client.ts';
import { formPage } from '../http/form-page.ts';
import type { PageSession } from '../http/page-session.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { type Text, text } from '../i18n/translator.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/providers';

/** `/account/providers`: the upstream identities that sign in to this account, and unlinking one. */
export function linkedIdentityPageRoutes(deps: {
  federation: FederationService;
  /** Which identities' upstream refused the kept token (provider-token.service.ts): the page offers to reconnect them. */
  providerTokens: { reconsentNeeded(accountId: string): Promise<Set<string>> };
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
}) {
  const { router, render: renderPage } = formPage(PAGE, {
    renderer: deps.renderer,
    view: 'account-providers',
    async data(current, locale) {
      const reconnect = await deps.providerTokens.reconsentNeeded(current.accountId);
      const identities = (await deps.federation.linkedTo(current.accountId)).map((identity) => ({
        id: identity.id,
        provider: identity.provider,
        needsReconnect: reconnect.has(identity.id),
        providerName: identity.providerName,
        upstreamName: identity.display_name,
        email: identity.email,
        linked: shownTime(identity.created_at, locale),
        lastUsed: shownTime(identity.last_used_at, locale),
      }));
      return { identities, providers: deps.federation.providers };
    },
  });

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const notices: Record<string, Text> = {
      unlinked: text('upstream.unlinked'),
      linked: text('upstream.linked'),
      already: text('upstream.alreadyLinked'),
    };
    const notice = notices[String(ctx.query.done)];
    await renderPage(ctx, current, { notice });
  });

  // Linking adds a way to sign in, so it needs a recent sign-in: a stolen session cookie must not plant one.
  router.post('/link/:provider', async (ctx) => {
    const current = await deps.session.requireRecent(ctx, PAGE);
    if (!current) return;
    const provider = String(ctx.params.provider);
    const name = deps.federation.nameOf(provider);
    if (!name) return renderPage(ctx, current, { error: text('errors.providerNotFound.message') }, 404);
    try {
      const url = await deps.federation.begin(provider, { account: current.accountId, session: current.sessionUid });
      if (!url) return renderPage(ctx, current, { error: text('errors.providerNotFound.message') }, 404);
      ctx.status = 303;
      ctx.redirect(url.href);
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      ctx.state.log?.warn({ err: error.cause, provider }, 'upstream discovery failed');
      await renderPage(ctx, current, { error: text('upstream.linkNotAnswering', { provider: name }) }, 502);
    }
  });

  // The federation callback hands linking answers on to here (ACCOUNT_LINK_RETURN); the session must be the one that asked.
  router.get('/return', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const response = new URLSearchParams(ctx.querystring);
    const flow = await deps.federation.flowFor(response.get('state') ?? '');
    const named = flow && deps.federation.nameOf(flow.provider);
    const name = named ?? text('upstream.theProvider');
    const inSentence = named ?? text('upstream.theProviderInSentence');
    try {
      const outcome = await deps.federation.linkToAccount(current.accountId, current.sessionUid, response);
      if (!outcome) return renderPage(ctx, current, { error: text('upstream.unknownLinkAnswer') }, 400);
      if (outcome.status === 'taken') {
        const error = text('upstream.linkTaken', { provider: name });
        return renderPage(ctx, current, { error }, 409);
      }
      if (outcome.status === 'linked') {
        await deps.audit.record({
          event: 'identity_linked',
          outcome: 'success',
          origin: requestOrigin(ctx),
          accountId: current.accountId,
          detail: { provider: outcome.provider },
        });
      }
      ctx.status = 303;
      ctx.redirect(`${PAGE}?done=${outcome.status === 'linked' ? 'linked' : 'already'}`);
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      ctx.state.log?.warn({ err: error.cause, provider: flow?.provider }, `upstream link ${error.reason}`);
      const message =
        error.reason === 'denied'
          ? text('upstream.linkDenied', { provider: inSentence })
          : text(error.reason === 'unavailable' ? 'upstream.linkUnavailable' : 'upstream.linkRefused', {
              provider: name,
            });
      await renderPage(ctx, current, { error: message }, error.reason === 'unavailable' ? 502 : 400);
    }
  });

  router.post('/unlink', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const id = (ctx.request.body as Record<string, unknown>).identity;
    const result = typeof id === 'string' ? await deps.federation.unlink(current.accountId, id) : 'not_found';
    // Someone else's identity, or one already unlinked: all the same here.
    if (result === 'not_found') return renderPage(ctx, current, { error: text('upstream.notLinked') }, 404);
    if (result === 'last_method') return renderPage(ctx, current, { error: text('upstream.lastMethod') }, 409);
    await deps.audit.record({
      event: 'identity_unlinked',
      outcome: 'success',
      origin: requestOrigin(ctx),
      accountId: current.accountId,
      detail: { provider: result.provider },
    });
    ctx.status = 303;
    ctx.redirect(`${PAGE}?done=unlinked`);
  });

  return router.routes();
}
