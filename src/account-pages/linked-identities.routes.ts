import type { AuditService } from '../audit/audit.service.ts';
import type { FederationService } from '../federation/federation.service.ts';
import { UpstreamFailure } from '../federation/upstream-client.ts';
import { formPage } from '../http/form-page.ts';
import type { PageSession } from '../http/page-session.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { type Text, text } from '../i18n/translator.ts';
import { CONFIRM_VIEW, type ConfirmStep, confirmed } from './confirm-step.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/providers';

/** `/account/providers`: the upstream identities that sign in to this account, and unlinking one (after a confirm step). */
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
    const body = ctx.request.body as Record<string, unknown>;
    const id = typeof body.identity === 'string' ? body.identity : undefined;
    // Someone else's identity, or one already unlinked: all the same here.
    const refuse = (why: 'not_found' | 'last_method') =>
      why === 'not_found'
        ? renderPage(ctx, current, { error: text('upstream.notLinked') }, 404)
        : renderPage(ctx, current, { error: text('upstream.lastMethod') }, 409);
    if (!confirmed(body)) {
      // The last way to sign in is refused at the first press: there is nothing to confirm.
      const identity = id === undefined ? 'not_found' : await deps.federation.mayUnlink(current.accountId, id);
      if (typeof identity === 'string') return refuse(identity);
      const step: ConfirmStep = {
        kind: 'identity',
        nav: 'providers',
        name: [identity.providerName, identity.email ?? identity.display_name].filter(Boolean).join(' · '),
        action: `${PAGE}/unlink`,
        fields: { identity: identity.id },
        back: PAGE,
      };
      return deps.renderer.render(ctx, CONFIRM_VIEW, step);
    }
    const result = id === undefined ? 'not_found' : await deps.federation.unlink(current.accountId, id);
    if (typeof result === 'string') return refuse(result);
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
