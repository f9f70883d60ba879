import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { AccountService } from '../accounts/account.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { PageError } from '../http/page-error.ts';
import type { Renderer } from '../http/render.ts';
import { MailDeliveryError } from '../notifications/message.ts';
import { describeDuration } from '../shared/duration.ts';
import { firstFactor } from './authentication-methods.ts';
import { EXPIRED_INTERACTION, finishInteraction, loadInteraction, type Interaction } from './interaction-details.ts';
import type { OneTimeCodes, Recipient } from './one-time-codes.ts';
import { describeScopes } from './scope-descriptions.ts';

/** The organizations a person may act for, and the binding of an app's grant to one of them. */
export type OrganizationChoice = {
  choices(accountId: string): Promise<{ id: string; name: string; role: string }[]>;
  bind(accountId: string, organizationId: string, grantId: string): Promise<void>;
  isBound(grantId: string): Promise<boolean>;
};

type Deps = {
  provider: () => Provider;
  organizations: OrganizationChoice;
  /** What a new account gets (its sign-up DUST); startup re-runs it for any account that missed it. */
  onAccountCreated(accountId: string): Promise<unknown>;
  renderer: Renderer;
  accounts: AccountService;
  codes: OneTimeCodes;
  /** How long a code lives, in words ("10 minutes"). */
  codeLifetime: string;
};

const emailSchema = z.email().max(254);
const codeSchema = z.string().regex(/^\d{6}$/);


/** The hosted sign-in pages: email, one-time code, consent. The interaction cookie scopes them to /interaction/:uid. */
export function interactionRoutes(deps: Deps) {
  const { renderer, codes } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const details = (ctx: Context) => loadInteraction(deps.provider(), ctx);

  const clientName = async (clientId: unknown) => {
    const client = await deps.provider().Client.find(String(clientId));
    return client?.clientName ?? 'the application';
  };

  const finish = (ctx: Context, result: InteractionResults) => finishInteraction(deps.provider(), ctx, result);

  const renderLogin = async (ctx: Context, interaction: Interaction, data: { error?: string; email?: string | undefined }, status = 200) => {
    await renderer.render(ctx, 'login', { uid: interaction.uid, clientName: await clientName(interaction.params.client_id), ...data }, status);
  };

  const renderCode = async (ctx: Context, email: string, data: { error?: string; notice?: string }, status = 200) => {
    await renderer.render(ctx, 'code', { uid: ctx.params.uid, email, lifetime: deps.codeLifetime, ...data }, status);
  };

  // Throttling is the person's doing (429); a mail server that fails is ours (503).
  const sendCode = async (ctx: Context, email: string): Promise<{ status: number; message: string } | undefined> => {
    try {
      const started = await codes.start(ctx.params.uid!, { channel: 'email', address: email }, { ip: ctx.ip });
      if (started.status === 'locked_out') return { status: 429, message: lockedOutMessage(started.until) };
      if (started.status === 'throttled') {
        const wait = describeDuration(started.retryAfter);
        const message =
          started.reason === 'resend'
            ? `A code was just sent. You can ask for a new one in ${wait}.`
            : `Too many codes were asked for. Try again in ${wait}.`;
        return { status: 429, message };
      }
      return undefined;
    } catch (error) {
      if (error instanceof MailDeliveryError) {
        return { status: 503, message: 'We could not send the email just now. Please try again in a minute.' };
      }
      throw error;
    }
  };

  const pendingEmail = async (uid: string) => emailOf(await codes.pending(uid));

  /** The `organization` scope asks the person which organization the app acts for, once per grant. */
  const needsOrganization = async (interaction: Interaction) =>
    String(interaction.params.scope ?? '').split(' ').includes('organization') &&
    !(interaction.grantId && (await deps.organizations.isBound(interaction.grantId)));

  const renderConsent = async (ctx: Context, interaction: Interaction, error?: string) => {
    const accountId = String(interaction.session?.accountId);
    const account = await deps.accounts.findById(accountId);
    if (!account) throw new PageError(400, EXPIRED_INTERACTION);
    const detail = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const requested = [...(detail.missingOIDCScope ?? []), ...Object.values(detail.missingResourceScopes ?? {}).flat()];
    await renderer.render(
      ctx,
      'consent',
      {
        uid: interaction.uid,
        clientName: await clientName(interaction.params.client_id),
        scopes: describeScopes(requested),
        spendsDust: requested.includes('dust:spend'),
        accountLabel: account.email ?? account.fairyname,
        organizations: (await needsOrganization(interaction)) ? await deps.organizations.choices(accountId) : undefined,
        error,
      },
      error ? 400 : 200,
    );
  };

  const grantConsent = async (ctx: Context, interaction: Interaction, organizationId?: string) => {
    if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) throw new PageError(400, EXPIRED_INTERACTION);
    const accountId = interaction.session.accountId;
    const chooseOrganization = await needsOrganization(interaction);
    if (chooseOrganization) {
      const choices = await deps.organizations.choices(accountId);
      if (!choices.some((choice) => choice.id === organizationId)) {
        return renderConsent(ctx, interaction, 'Choose the organization this app will act for.');
      }
    }
    const provider = deps.provider();
    const detail = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session.accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw new PageError(400, EXPIRED_INTERACTION);
    if (detail.missingOIDCScope) grant.addOIDCScope(detail.missingOIDCScope.join(' '));
    if (detail.missingOIDCClaims) grant.addOIDCClaims(detail.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(detail.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    if (chooseOrganization) await deps.organizations.bind(accountId, organizationId!, grantId);
    await finish(ctx, { consent: { grantId } });
  };

  router.get('/', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name === 'login') {
      const hint = interaction.params.login_hint;
      return renderLogin(ctx, interaction, typeof hint === 'string' ? { email: hint } : {});
    }
    if (interaction.prompt.name === 'mfa') return ctx.redirect(`/interaction/${interaction.uid}/mfa`);
    if (interaction.prompt.name !== 'consent') throw new PageError(400, EXPIRED_INTERACTION);
    // Our own apps are trusted by definition, even when they ask with prompt=consent.
    const client = await deps.provider().Client.find(String(interaction.params.client_id));
    if (client?.['first_party'] && !(await needsOrganization(interaction))) return grantConsent(ctx, interaction);
    await renderConsent(ctx, interaction);
  });

  router.post('/email', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw new PageError(400, EXPIRED_INTERACTION);
    const raw = String((ctx.request.body as Record<string, unknown>).email ?? '').trim();
    const parsed = emailSchema.safeParse(raw.toLowerCase());
    if (!parsed.success) return renderLogin(ctx, interaction, { error: 'Enter a valid email address, like name@example.com.', email: raw }, 400);
    const problem = await sendCode(ctx, parsed.data);
    if (problem && !(await pendingEmail(interaction.uid))) return renderLogin(ctx, interaction, { error: problem.message, email: raw }, problem.status);
    if (problem) return renderCode(ctx, parsed.data, { error: problem.message }, problem.status);
    ctx.status = 303;
    ctx.redirect(`/interaction/${interaction.uid}/code`);
  });

  router.get('/code', async (ctx) => {
    const interaction = await details(ctx);
    const email = await pendingEmail(interaction.uid);
    if (interaction.prompt.name !== 'login' || !email) return ctx.redirect(`/interaction/${interaction.uid}`);
    await renderCode(ctx, email, {});
  });

  router.post('/resend', async (ctx) => {
    const interaction = await details(ctx);
    const email = await pendingEmail(interaction.uid);
    if (interaction.prompt.name !== 'login' || !email) return ctx.redirect(`/interaction/${interaction.uid}`);
    const problem = await sendCode(ctx, email);
    // A failed delivery withdraws the code it replaced, so there is no code left to type in.
    if (problem && !(await pendingEmail(interaction.uid))) return renderLogin(ctx, interaction, { error: problem.message, email }, problem.status);
    if (problem) return renderCode(ctx, email, { error: problem.message }, problem.status);
    await renderCode(ctx, email, { notice: 'We sent a new code. Earlier codes no longer work.' });
  });

  router.post('/code', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw new PageError(400, EXPIRED_INTERACTION);
    const email = await pendingEmail(interaction.uid);
    const code = codeSchema.safeParse(String((ctx.request.body as Record<string, unknown>).code ?? '').replace(/\s/g, ''));
    if (email && !code.success) return renderCode(ctx, email, { error: 'Enter the 6 digits from the email.' }, 400);
    const result = code.success ? await codes.verify(interaction.uid, code.data, { ip: ctx.ip }) : ({ status: 'expired' } as const);
    switch (result.status) {
      case 'ok': {
        const { account, created } = await deps.accounts.signInWithVerifiedEmail(result.recipient.address);
        if (created) await deps.onAccountCreated(account.id);
        return finish(ctx, { login: { accountId: account.id, ...firstFactor('email') } });
      }
      case 'limited':
        return renderCode(ctx, email!, { error: `Too many attempts. Try again in ${describeDuration(result.retryAfter)}.` }, 429);
      case 'locked_out':
        return renderLogin(ctx, interaction, { error: lockedOutMessage(result.until), email }, 429);
      case 'wrong':
        return renderCode(
          ctx,
          email!,
          { error: `That code is not right. ${result.attemptsLeft} ${result.attemptsLeft === 1 ? 'try' : 'tries'} left.` },
          400,
        );
      case 'locked':
        return renderLogin(ctx, interaction, { error: 'Too many wrong codes. Ask for a new code to try again.', email }, 429);
      case 'expired':
        return renderLogin(ctx, interaction, { error: 'That code has expired. Ask for a new one.', email }, 400);
    }
  });

  router.post('/confirm', async (ctx) => {
    const organizationId = (ctx.request.body as Record<string, unknown>).organization_id;
    await grantConsent(ctx, await details(ctx), typeof organizationId === 'string' ? organizationId : undefined);
  });

  router.post('/abort', async (ctx) => {
    await details(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'The person declined the request.' });
  });

  return router.routes();
}

function emailOf(recipient: Recipient | undefined) {
  return recipient?.channel === 'email' ? recipient.address : undefined;
}

/** The unlock time as a person reads it, in UTC so that it is the same on every device. */
export function lockedOutMessage(until: Date) {
  const time = until.toISOString().slice(11, 16);
  return `Too many wrong codes. Signing in with this address is locked until ${time} UTC.`;
}
