import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { signInRefusal, type AccountService } from '../accounts/account.service.ts';
import type { Account } from '../accounts/account.table.ts';
import type { Db } from '../db/database.ts';
import { parsePhoneNumber, type PhoneNumberProblem } from '../accounts/phone-number.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { PageError } from '../http/page-error.ts';
import { pageLocale } from '../http/page-locale.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { clientIp, requestOrigin } from '../http/request-origin.ts';
import { firstFactor } from './authentication-methods.ts';
import { interactionEnded, finishInteraction, loadInteraction, type Interaction } from './interaction-details.ts';
import {
  displayedAddress,
  type OneTimeCodes,
  type Recipient,
  type VerifyResult,
} from '../verification/one-time-codes.ts';
import { describeScopes } from './scope-descriptions.ts';
import {
  checkProblem,
  type CodeProblem,
  countdownOf,
  malformedCode,
  parseFormCode,
  resendCountdown,
  sendCode,
} from '../verification/code-outcomes.ts';
import { accountLabel } from '../accounts/account-label.ts';
import { appIdentity } from './app-identity.ts';
import type { PasskeyOffer } from './passkey-offer.ts';
import { PAGES_CLIENT_ID } from '../http/page-session.ts';
import { forgetIdentifier, lastIdentifier, rememberIdentifier } from './last-identifier.ts';

/** The organizations a person may act for, and the binding of an app's grant to one of them. */
export type OrganizationChoice = {
  choices(accountId: string): Promise<{ id: string; name: string; role: string }[]>;
  bind(accountId: string, organizationId: string, grantId: string): Promise<void>;
  isBound(grantId: string): Promise<boolean>;
};

type Deps = {
  provider: () => Provider;
  organizations: OrganizationChoice;
  renderer: Renderer;
  accounts: AccountService;
  codes: OneTimeCodes;
  /** How long a code lives ("10 minutes"), said in the reader's language. */
  codeLifetime: Text;
  /** Whether a text message can be delivered (Twilio, or the development outbox); without it the page asks for an email. */
  smsAvailable: boolean;
  audit: AuditService;
  /** A code sign-in held while the person is offered a passkey (passkey-offer.ts). */
  passkeyOffer: PasskeyOffer;
  /** The upstream providers offered as "Continue with …" buttons (src/federation/). */
  upstreamProviders: readonly { id: string; name: string; kind: string }[];
};

const emailSchema = z.email().max(254);

/** What the person typed on the sign-in page: an email address if it has an @, otherwise a phone number. */
function parseAddress(typed: string, smsAvailable: boolean): { recipient: Recipient } | { error: Text } {
  if (typed.includes('@') || !smsAvailable) {
    const email = emailSchema.safeParse(typed.toLowerCase());
    return email.success
      ? { recipient: { channel: 'email', address: email.data } }
      : { error: text('signInForm.invalidEmail') };
  }
  const phone = parsePhoneNumber(typed);
  return phone.ok ? { recipient: { channel: 'sms', address: phone.e164 } } : { error: phoneProblem(phone.problem) };
}

const phoneProblem = (problem: PhoneNumberProblem) => text(`signInForm.phone.${problem}`);

/** The hosted sign-in pages: email or phone number, one-time code, consent. The interaction cookie scopes them to /interaction/:uid. */
export function interactionRoutes(deps: Deps) {
  const { renderer, codes } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const details = (ctx: Context) => loadInteraction(deps.provider(), ctx);

  /** The app's name, logo, domain and links, as the sign-in and consent pages show them. */
  const appOf = async (ctx: Context, interaction: Interaction) => {
    const app = await appIdentity(ctx, deps.provider(), interaction.params.client_id);
    return { app, clientName: app.name };
  };

  const auditEntry = (
    ctx: Context,
    interaction: Interaction,
    entry: Omit<AuditRecord, 'origin' | 'clientId'>,
  ): AuditRecord => ({ ...entry, origin: requestOrigin(ctx), clientId: String(interaction.params.client_id) });
  const audit = (ctx: Context, interaction: Interaction, entry: Omit<AuditRecord, 'origin' | 'clientId'>) =>
    deps.audit.record(auditEntry(ctx, interaction, entry));

  const renderLogin = async (
    ctx: Context,
    interaction: Interaction,
    data: { error?: Text; errorField?: 'identifier'; identifier?: string | undefined; lastIdentifier?: string },
    status = 200,
  ) => {
    await renderer.render(
      ctx,
      'login',
      {
        uid: interaction.uid,
        ...(await appOf(ctx, interaction)),
        smsAvailable: deps.smsAvailable,
        upstreamProviders: deps.upstreamProviders,
        ...data,
      },
      status,
    );
  };

  /** `resendIn`: the resend wait when it was read with the pending code (OneTimeCodes' `waiting`). */
  const renderCode = async (
    ctx: Context,
    recipient: Recipient,
    data: { error?: Text; errorField?: 'code'; notice?: Text },
    status = 200,
    resendIn?: number,
  ) => {
    await renderer.render(
      ctx,
      'code',
      {
        uid: ctx.params.uid,
        channel: recipient.channel,
        address: displayedAddress(recipient),
        lifetime: deps.codeLifetime,
        ...(resendIn === undefined ? await resendCountdown(codes, String(ctx.params.uid)) : countdownOf(resendIn)),
        ...data,
      },
      status,
    );
  };

  /**
   * After a refusal: the code page while a code for this recipient is still waiting (a failed
   * delivery withdraws the code it replaced), else the sign-in page with what was typed. `codeField`:
   * the typed code itself was wrong, so the message also stands at the code field.
   */
  const refuse = async (
    ctx: Context,
    interaction: Interaction,
    problem: CodeProblem,
    recipient: Recipient | undefined,
    typed?: string,
    codeField = false,
  ) => {
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    const waiting = await codes.waiting(interaction.uid);
    const pending = waiting?.recipient;
    if (pending && recipient && pending.channel === recipient.channel && pending.address === recipient.address) {
      const field = codeField ? { errorField: 'code' as const } : {};
      return renderCode(ctx, pending, { error: problem.message, ...field }, problem.status, waiting.resendIn);
    }
    const identifier = typed ?? (recipient && displayedAddress(recipient));
    return renderLogin(ctx, interaction, { error: problem.message, identifier }, problem.status);
  };

  const send = (ctx: Context, recipient: Recipient) =>
    sendCode(
      () => codes.start(String(ctx.params.uid), recipient, { ip: clientIp(ctx), locale: pageLocale(ctx) }),
      recipient.channel,
      recipient.channel === 'sms' ? 'email' : undefined,
    );

  /** A failed code, filed under the account it was for when there is one, so the person sees it in their activity. */
  const recordFailure = async (
    ctx: Context,
    interaction: Interaction,
    recipient: Recipient | undefined,
    reason: string,
  ) => {
    const account = recipient && (await deps.accounts.findBySignInAddress(recipient.channel, recipient.address));
    await audit(ctx, interaction, {
      event: 'sign_in_failed',
      outcome: 'failure',
      accountId: account?.id,
      detail: { channel: recipient?.channel, reason },
    });
  };

  const recordLockout = async (ctx: Context, interaction: Interaction, recipient: Recipient, until: Date) => {
    const account = await deps.accounts.findBySignInAddress(recipient.channel, recipient.address);
    await audit(ctx, interaction, {
      event: 'lockout',
      outcome: 'failure',
      accountId: account?.id,
      detail: { channel: recipient.channel, until: until.toISOString() },
    });
  };

  /** The `organization` scope asks the person which organization the app acts for, once per grant. */
  const needsOrganization = async (interaction: Interaction) =>
    String(interaction.params.scope ?? '')
      .split(' ')
      .includes('organization') && !(interaction.grantId && (await deps.organizations.isBound(interaction.grantId)));

  const renderConsent = async (ctx: Context, interaction: Interaction, error?: Text) => {
    const accountId = String(interaction.session?.accountId);
    // As the tokens it leads to see it (findAccount read it moments ago, at the resume that asked for
    // consent): a change made through the account service is seen at once, so the label is current.
    const account = await deps.accounts.findForClaims(accountId);
    if (!account) throw interactionEnded();
    const requested = requestedScopes(interaction);
    await renderer.render(
      ctx,
      'consent',
      {
        uid: interaction.uid,
        ...(await appOf(ctx, interaction)),
        scopes: describeScopes(requested),
        spendsDust: requested.includes('dust:spend'),
        accountLabel: accountLabel(account),
        organizations: (await needsOrganization(interaction)) ? await deps.organizations.choices(accountId) : undefined,
        error,
      },
      error ? 400 : 200,
    );
  };

  const grantConsent = async (ctx: Context, interaction: Interaction, organizationId?: string) => {
    if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) throw interactionEnded();
    const accountId = interaction.session.accountId;
    const chooseOrganization = await needsOrganization(interaction);
    if (chooseOrganization) {
      const choices = await deps.organizations.choices(accountId);
      if (!choices.some((choice) => choice.id === organizationId)) {
        return renderConsent(ctx, interaction, text('signInForm.chooseOrganization'));
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
      : new provider.Grant({
          accountId: interaction.session.accountId,
          clientId: String(interaction.params.client_id),
        });
    if (!grant) throw interactionEnded();
    if (detail.missingOIDCScope) grant.addOIDCScope(detail.missingOIDCScope.join(' '));
    if (detail.missingOIDCClaims) grant.addOIDCClaims(detail.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(detail.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    if (chooseOrganization && organizationId) await deps.organizations.bind(accountId, organizationId, grantId);
    await audit(ctx, interaction, {
      event: 'consent_granted',
      outcome: 'success',
      accountId,
      detail: {
        grantId,
        scopes: requestedScopes(interaction),
        organizationId: chooseOrganization ? organizationId : undefined,
      },
    });
    await finishInteraction(ctx, interaction, { consent: { grantId } });
  };

  router.get('/', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name === 'login') {
      const hint = interaction.params.login_hint;
      if (typeof hint === 'string') return renderLogin(ctx, interaction, { identifier: hint });
      // "Use another account" clears the browser's last identifier; otherwise it is offered first.
      if (ctx.query.another === '1') forgetIdentifier(ctx);
      const last = ctx.query.another === '1' ? undefined : lastIdentifier(ctx);
      return renderLogin(ctx, interaction, last ? { lastIdentifier: last } : {});
    }
    if (interaction.prompt.name === 'mfa') return ctx.redirect(`/interaction/${interaction.uid}/mfa`);
    if (interaction.prompt.name !== 'consent') throw interactionEnded();
    // Our own apps are trusted by definition, even when they ask with prompt=consent.
    const client = await deps.provider().Client.find(String(interaction.params.client_id));
    if (client?.first_party && !(await needsOrganization(interaction))) return grantConsent(ctx, interaction);
    await renderConsent(ctx, interaction);
  });

  // The path and field keep their first name, `email`, though a phone number is welcome too.
  router.post('/email', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw interactionEnded();
    const typed = String((ctx.request.body as Record<string, unknown>).email ?? '').trim();
    const parsed = parseAddress(typed, deps.smsAvailable);
    if ('error' in parsed)
      return renderLogin(ctx, interaction, { error: parsed.error, errorField: 'identifier', identifier: typed }, 400);
    const problem = await send(ctx, parsed.recipient);
    if (problem) return refuse(ctx, interaction, problem, parsed.recipient, typed);
    ctx.status = 303;
    ctx.redirect(`/interaction/${interaction.uid}/code`);
  });

  router.get('/code', async (ctx) => {
    const interaction = await details(ctx);
    const waiting = await codes.waiting(interaction.uid);
    if (interaction.prompt.name !== 'login' || !waiting) return ctx.redirect(`/interaction/${interaction.uid}`);
    await renderCode(ctx, waiting.recipient, {}, 200, waiting.resendIn);
  });

  router.post('/resend', async (ctx) => {
    const interaction = await details(ctx);
    const recipient = await codes.pending(interaction.uid);
    if (interaction.prompt.name !== 'login' || !recipient) return ctx.redirect(`/interaction/${interaction.uid}`);
    const problem = await send(ctx, recipient);
    if (problem) return refuse(ctx, interaction, problem, recipient);
    await renderCode(ctx, recipient, { notice: text('verification.newCodeSent') });
  });

  router.post('/code', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw interactionEnded();
    const code = parseFormCode(ctx.request.body);
    // The pending code's recipient comes back from verify (a failure names it), so a well-formed code
    // costs no read of its own.
    const pending = code ? undefined : await codes.waiting(interaction.uid);
    if (pending) {
      const { recipient, resendIn } = pending;
      const error = malformedCode(recipient.channel).message;
      return renderCode(ctx, recipient, { error, errorField: 'code' }, 400, resendIn);
    }
    const result: VerifyResult = code
      ? await codes.verify(interaction.uid, code, { ip: clientIp(ctx) })
      : { status: 'expired' };
    if (result.status === 'ok') {
      const { channel, address } = result.recipient;
      const signedIn = (accountId: string, created: boolean) =>
        auditEntry(ctx, interaction, {
          event: 'sign_in',
          outcome: 'success',
          accountId,
          detail: { method: channel, created },
        });
      // A new account's `sign_in` row commits in the transaction that creates the account, with its
      // sign-up DUST (the accounts' NewAccountWork, wired in services.ts): one commit, not two.
      const withNewAccount = (transaction: Db, created: Account) =>
        deps.audit.recordIn(transaction, signedIn(created.id, true));
      const { account, created } =
        channel === 'email'
          ? await deps.accounts.signInWithVerifiedEmail(address, withNewAccount)
          : await deps.accounts.signInWithVerifiedPhone(address, withNewAccount);
      const refusal = signInRefusal(account);
      if (refusal) {
        await audit(ctx, interaction, {
          event: 'sign_in_refused',
          outcome: 'failure',
          accountId: account.id,
          detail: { method: channel, status: account.status },
        });
        throw new PageError(403, refusal, text('errors.cannotSignIn.title'));
      }
      if (!created) await deps.audit.record(signedIn(account.id, false));
      rememberIdentifier(ctx, displayedAddress(result.recipient));
      // A browser that can make a passkey (the code page's script says so) is offered one first,
      // unless this is FairyID's own account pages, which have their own "Add a passkey".
      // An app that asked for an acr gets the mfa prompt's own enrollment instead.
      const capable = (ctx.request.body as Record<string, unknown>).passkey_capable === 'yes';
      const asksForMore = !!interaction.params.acr_values || String(interaction.params.claims ?? '').includes('"acr"');
      if (
        capable &&
        !asksForMore &&
        interaction.params.client_id !== PAGES_CLIENT_ID &&
        (await deps.accounts.passkeyOfferDue(account))
      ) {
        await deps.passkeyOffer.hold(interaction.uid, { accountId: account.id, channel });
        ctx.status = 303;
        return ctx.redirect(`/interaction/${interaction.uid}/passkey-offer`);
      }
      return finishInteraction(ctx, interaction, { login: { accountId: account.id, ...firstFactor(channel) } });
    }
    const { recipient } = result;
    const problem = checkProblem(result, recipient?.channel);
    if (problem.reason) await recordFailure(ctx, interaction, recipient, problem.reason);
    if (problem.lockedOutUntil && recipient) await recordLockout(ctx, interaction, recipient, problem.lockedOutUntil);
    if (problem.page === 'code')
      return refuse(ctx, interaction, problem, recipient, undefined, problem.reason === 'wrong_code');
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    const identifier = recipient && displayedAddress(recipient);
    return renderLogin(ctx, interaction, { error: problem.message, identifier }, problem.status);
  });

  router.get('/passkey-offer', async (ctx) => {
    const interaction = await details(ctx);
    const held = interaction.prompt.name === 'login' && (await deps.passkeyOffer.peek(interaction.uid));
    if (!held) return ctx.redirect(`/interaction/${interaction.uid}`);
    await renderer.render(ctx, 'passkey-offer', { uid: interaction.uid, ...(await appOf(ctx, interaction)) });
  });

  // "Not now": the sign-in goes on by its code alone, and the offer stays away for a month.
  router.post('/passkey-offer/skip', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw interactionEnded();
    const held = await deps.passkeyOffer.take(interaction.uid);
    if (!held) return ctx.redirect(`/interaction/${interaction.uid}`);
    await deps.accounts.passkeyOfferSkipped(held.accountId);
    await finishInteraction(ctx, interaction, { login: { accountId: held.accountId, ...firstFactor(held.channel) } });
  });

  router.post('/confirm', async (ctx) => {
    const organizationId = (ctx.request.body as Record<string, unknown>).organization_id;
    await grantConsent(ctx, await details(ctx), typeof organizationId === 'string' ? organizationId : undefined);
  });

  // "Not you? Use another account" on the consent page: the same authorization again, asking for a
  // sign-in (prompt=login) with a blank sign-in page; the session changes hands only once the other
  // person has signed in.
  router.post('/another-account', async (ctx) => {
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'consent') throw interactionEnded();
    forgetIdentifier(ctx);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(interaction.params)) {
      if (typeof value === 'string' && key !== 'prompt' && key !== 'login_hint') params.set(key, value);
    }
    params.set('prompt', 'login');
    ctx.status = 303;
    ctx.redirect(`${deps.provider().pathFor('authorization')}?${params}`);
  });

  router.post('/abort', async (ctx) => {
    await finishInteraction(ctx, await details(ctx), {
      error: 'access_denied',
      error_description: 'The person declined the request.',
    });
  });

  return router.routes();
}

/** The scopes the consent prompt asks for: OpenID scopes and API (resource) scopes together. */
function requestedScopes(interaction: Interaction) {
  const detail = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  return [...(detail.missingOIDCScope ?? []), ...Object.values(detail.missingResourceScopes ?? {}).flat()];
}
