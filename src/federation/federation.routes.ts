import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { signInRefusal } from '../accounts/account.service.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { PageError } from '../http/page-error.ts';
import { pageLocale } from '../http/page-locale.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { clientIp, requestOrigin } from '../http/request-origin.ts';
import { federatedSignIn } from '../interaction/authentication-methods.ts';
import {
  interactionEnded,
  finishInteraction,
  loadInteraction,
  type Interaction,
} from '../interaction/interaction-details.ts';
import { checkProblem, malformedCode, parseFormCode, sendCode } from '../verification/code-outcomes.ts';
import type { OneTimeCodes, Recipient } from '../verification/one-time-codes.ts';
import {
  ACCOUNT_LINK_RETURN,
  type FederatedOutcome,
  type FederationService,
  type PendingFlow,
  type SignedIn,
} from './federation.service.ts';
import { UpstreamFailure } from './upstream-client.ts';

type Deps = {
  provider: () => Provider;
  federation: FederationService;
  renderer: Renderer;
  codes: OneTimeCodes;
  codeLifetime: Text;
  audit: AuditService;
  /** Seconds a sign-in interaction lives: a link waiting for proof lives as long. */
  interactionTtl: number;
};

/**
 * Sign-in through upstream identity providers: the "Continue with …" buttons start it, the
 * upstream sends the browser back to /federation/:provider/callback (the redirect URI registered
 * there), which hands the answer to the interaction it belongs to (or to the account page that
 * links another provider, whose session must match in the same way). The interaction's own cookie
 * binds the answer to the browser that asked: an answer carried to another browser ends there.
 */
export function federationRoutes(deps: Deps) {
  const { federation, renderer, codes } = deps;

  const callback = new Router();
  /** Where the browser goes on with an answer: the interaction, or the account page that links. */
  const onward = (flow: PendingFlow, query: string) =>
    'interaction' in flow.owner
      ? `/interaction/${flow.owner.interaction}/federation/return?${query}`
      : `${ACCOUNT_LINK_RETURN}?${query}`;

  // The answer's `state` names the flow, and so the interaction (RFC 6749 10.12); the redemption waits
  // for the interaction's cookie, path-scoped to /interaction/:uid.
  callback.get('/federation/:provider/callback', async (ctx) => {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : undefined;
    const flow = state ? await federation.flowFor(state) : undefined;
    // A provider that posts its answers never sends one in a query: such a one is not its own.
    if (!flow || flow.provider !== ctx.params.provider || federation.postsAnswer(flow.provider))
      throw new PageError(400, text('errors.unknownAnswer'), text('errors.signInEnded.title'));
    ctx.status = 303;
    ctx.redirect(onward(flow, ctx.querystring));
  });

  // OAuth 2.0 Form Post Response Mode (Apple): the answer is a cross-site POST, which carries none of
  // our SameSite=Lax cookies, so it cannot be bound to the browser here. It is kept server-side under
  // its `state` (once), and the browser is sent on with a GET, a top-level navigation that does carry
  // the interaction's (or the account session's) cookie: that request redeems it, as for any provider.
  callback.post(
    '/federation/:provider/callback',
    bodyParser({ enableTypes: ['form'], formLimit: '16kb' }),
    async (ctx) => {
      const body = (ctx.request.body ?? {}) as Record<string, unknown>;
      const answer = new URLSearchParams();
      for (const [name, value] of Object.entries(body)) if (typeof value === 'string') answer.set(name, value);
      const state = answer.get('state');
      const flow = state ? await federation.flowFor(state) : undefined;
      if (!state || !flow || flow.provider !== ctx.params.provider || !federation.postsAnswer(flow.provider))
        throw new PageError(400, text('errors.unknownAnswer'), text('errors.signInEnded.title'));
      if (!(await federation.holdPostedAnswer(state, answer)))
        throw new PageError(400, text('errors.unknownAnswer'), text('errors.signInEnded.title'));
      ctx.status = 303;
      ctx.redirect(onward(flow, new URLSearchParams({ state }).toString()));
    },
  );

  const router = new Router({ prefix: '/interaction/:uid/federation' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);
  const linkFlow = (uid: string) => `federation:${uid}`;

  const signInStep = async (ctx: Context) => {
    const interaction = await loadInteraction(deps.provider(), ctx);
    if (interaction.prompt.name !== 'login') throw interactionEnded();
    return interaction;
  };

  const audit = (ctx: Context, interaction: Interaction, entry: Omit<AuditRecord, 'origin' | 'clientId'>) =>
    deps.audit.record({ ...entry, origin: requestOrigin(ctx), clientId: String(interaction.params.client_id) });

  /** The page an upstream sign-in ends on when it did not work, with the way back to the sign-in page. */
  const failed = (ctx: Context, interaction: Interaction, status: number, message: Text, upstream?: string) =>
    renderer.render(
      ctx,
      'federation-error',
      // An upstream's own words are shown as text (escaped), and not at length.
      { uid: interaction.uid, message, upstreamDescription: upstream?.slice(0, 200) },
      status,
    );

  const signIn = async (
    ctx: Context,
    interaction: Interaction,
    outcome: SignedIn,
    provider: string,
    provedAddress: boolean,
  ) => {
    const { account, created, linked } = outcome;
    const refused = signInRefusal(account);
    if (refused) {
      await audit(ctx, interaction, {
        event: 'sign_in_refused',
        outcome: 'failure',
        accountId: account.id,
        detail: { method: 'federated', provider, status: account.status },
      });
      throw new PageError(403, refused, text('errors.cannotSignIn.title'));
    }
    if (linked) {
      await audit(ctx, interaction, {
        event: 'identity_linked',
        outcome: 'success',
        accountId: account.id,
        detail: { provider },
      });
    }
    await audit(ctx, interaction, {
      event: 'sign_in',
      outcome: 'success',
      accountId: account.id,
      detail: { method: 'federated', provider, created },
    });
    await finishInteraction(ctx, interaction, {
      login: { accountId: account.id, ...federatedSignIn(provedAddress) },
    });
  };

  const renderLink = async (ctx: Context, uid: string, data: { error?: Text; notice?: Text } = {}, status = 200) => {
    const held = await federation.heldLink(uid);
    if (!held) throw interactionEnded();
    await renderer.render(
      ctx,
      'federation-link',
      {
        uid,
        providerName: federation.nameOf(held.provider) ?? held.provider,
        address: held.email,
        lifetime: deps.codeLifetime,
        ...data,
      },
      status,
    );
  };

  router.post('/start/:provider', async (ctx) => {
    const interaction = await signInStep(ctx);
    const provider = String(ctx.params.provider);
    const name = federation.nameOf(provider);
    if (!name) throw new PageError(404, text('errors.providerNotFound.message'), text('errors.providerNotFound.title'));
    try {
      const url = await federation.begin(provider, { interaction: interaction.uid });
      if (!url)
        throw new PageError(404, text('errors.providerNotFound.message'), text('errors.providerNotFound.title'));
      ctx.status = 303;
      ctx.redirect(url.href);
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      ctx.state.log?.warn({ err: error.cause, provider }, 'upstream discovery failed');
      await failed(ctx, interaction, 502, text('upstream.notAnswering', { provider: name }));
    }
  });

  router.get('/return', async (ctx) => {
    const interaction = await signInStep(ctx);
    const response = new URLSearchParams(ctx.querystring);
    const flow = await federation.flowFor(response.get('state') ?? '');
    const named = flow && federation.nameOf(flow.provider);
    const name = named ?? text('upstream.theProvider');
    let outcome: FederatedOutcome | undefined;
    try {
      outcome = await federation.finish(interaction.uid, response);
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      ctx.state.log?.warn({ err: error.cause, provider: flow?.provider }, `upstream sign-in ${error.reason}`);
      await audit(ctx, interaction, {
        event: 'sign_in_failed',
        outcome: 'failure',
        detail: { method: 'federated', provider: flow?.provider, reason: `upstream_${error.reason}` },
      });
      if (error.reason === 'denied')
        return failed(
          ctx,
          interaction,
          400,
          text('upstream.denied', { provider: named ?? text('upstream.theProviderInSentence') }),
        );
      if (error.reason === 'unavailable')
        return failed(ctx, interaction, 502, text('upstream.unavailable', { provider: name }));
      return failed(ctx, interaction, 400, text('upstream.refused', { provider: name }), error.upstreamDescription);
    }
    if (!outcome || !flow) return failed(ctx, interaction, 400, text('errors.unknownAnswer'));
    if (outcome.status === 'signed_in') return signIn(ctx, interaction, outcome, flow.provider, false);
    await federation.holdLink(interaction.uid, outcome.link, deps.interactionTtl);
    const recipient: Recipient = { channel: 'email', address: outcome.link.email };
    const problem = await sendCode(
      () =>
        codes.start(linkFlow(interaction.uid), recipient, {
          ip: clientIp(ctx),
          accountId: outcome.link.accountId,
          locale: pageLocale(ctx),
        }),
      'email',
    );
    if (problem) {
      if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
      return failed(ctx, interaction, problem.status, problem.message);
    }
    ctx.status = 303;
    ctx.redirect(`/interaction/${interaction.uid}/federation/link`);
  });

  router.get('/link', async (ctx) => {
    const interaction = await signInStep(ctx);
    await renderLink(ctx, interaction.uid);
  });

  // A code that did not arrive, or expired: a new one to the same address (the resend wait and budgets apply).
  router.post('/link/resend', async (ctx) => {
    const interaction = await signInStep(ctx);
    const held = await federation.heldLink(interaction.uid);
    if (!held) throw interactionEnded();
    const recipient: Recipient = { channel: 'email', address: held.email };
    const problem = await sendCode(
      () =>
        codes.start(linkFlow(interaction.uid), recipient, {
          ip: clientIp(ctx),
          accountId: held.accountId,
          locale: pageLocale(ctx),
        }),
      'email',
    );
    if (problem) {
      if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
      return renderLink(ctx, interaction.uid, { error: problem.message }, problem.status);
    }
    await renderLink(ctx, interaction.uid, { notice: text('verification.newCodeSent') });
  });

  // The person proves the existing account with the code sent to its address; only then is the identity linked.
  router.post('/link', async (ctx) => {
    const interaction = await signInStep(ctx);
    const held = await federation.heldLink(interaction.uid);
    if (!held) throw interactionEnded();
    const code = parseFormCode(ctx.request.body);
    if (!code) return renderLink(ctx, interaction.uid, { error: malformedCode('email').message }, 400);
    const result = await codes.verify(linkFlow(interaction.uid), code, {
      ip: clientIp(ctx),
      accountId: held.accountId,
    });
    if (result.status !== 'ok') {
      const problem = checkProblem(result, 'email');
      if (problem.reason) {
        await audit(ctx, interaction, {
          event: 'sign_in_failed',
          outcome: 'failure',
          accountId: held.accountId,
          detail: { method: 'federated', provider: held.provider, reason: problem.reason },
        });
      }
      if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
      if (problem.page === 'code') return renderLink(ctx, interaction.uid, { error: problem.message }, problem.status);
      return failed(ctx, interaction, problem.status, problem.message);
    }
    const outcome = await federation.completeLink(interaction.uid);
    if (!outcome) throw interactionEnded();
    await signIn(ctx, interaction, outcome, held.provider, true);
  });

  return [callback.routes(), router.routes()];
}
