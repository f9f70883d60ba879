import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { signInRefusal, type AccountService } from '../accounts/account.service.ts';
import { factorNameSchema } from '../accounts/factor-name.ts';
import {
  authenticationResponseSchema,
  registrationResponseSchema,
  type PasskeyService,
} from '../accounts/passkey.service.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { jsonErrors, ScriptError } from '../http/json-errors.ts';
import { pageLocale } from '../http/page-locale.ts';
import { text } from '../i18n/translator.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { parseBody, refusal } from './passkey-refusals.ts';
import { addFactor, firstFactor } from './authentication-methods.ts';
import type { BackupCodeService } from '../accounts/backup-code.service.ts';
import type { BackupCodeHandOff } from './backup-code-hand-off.ts';
import type { PasskeyOffer } from './passkey-offer.ts';
import { loadInteraction, saveInteractionResult, type Interaction } from './interaction-details.ts';
import { mayEnroll } from './mfa-options.ts';
import type { SecondFactorCompletion } from './second-factor-completion.ts';

const signInBody = z.object({ credential: authenticationResponseSchema });
const secondFactorBody = z.object({ credential: authenticationResponseSchema, remember: z.boolean().optional() });
const enrollBody = z.object({ credential: registrationResponseSchema, name: factorNameSchema.optional() });

const PREFIX = '/interaction/:uid/passkey';

/** The ceremonies' requests, which views/assets/passkeys.js sends and which are answered in JSON, errors too. */
export const isPasskeyCeremonyRequest = (ctx: Pick<Context, 'path'>) =>
  /^\/interaction\/[^/]+\/passkey\//.test(ctx.path);

/**
 * The passkey ceremonies inside a sign-in (JSON, called by views/assets/passkeys.js): a passkey as
 * the first factor (prompt `login`), as the second factor (prompt `mfa`), and creating one when the
 * sign-in asks for a second factor the person does not yet have.
 */
export function passkeyInteractionRoutes(deps: {
  provider: () => Provider;
  passkeys: PasskeyService;
  accounts: AccountService;
  secondFactor: SecondFactorCompletion;
  passkeyOffer: PasskeyOffer;
  backupCodes: BackupCodeService;
  handOff: BackupCodeHandOff;
  audit: AuditService;
}) {
  const router = new Router({ prefix: PREFIX });
  router.use(jsonErrors, bodyParser({ enableTypes: ['json'], jsonLimit: '64kb' }), csrfProtection);

  const binding = (interaction: Interaction) => `interaction:${interaction.uid}`;

  const inPrompt = async (ctx: Context, prompt: 'login' | 'mfa') => {
    const interaction = await loadInteraction(deps.provider(), ctx);
    if (interaction.prompt.name !== prompt)
      throw new ScriptError(400, 'invalid_request', text('errors.signInEnded.message'));
    const accountId = interaction.session?.accountId;
    if (prompt === 'mfa' && !accountId)
      throw new ScriptError(400, 'invalid_request', text('errors.signInEnded.message'));
    return { interaction, accountId: accountId ?? '' };
  };

  const audit = (ctx: Context, interaction: Interaction, entry: Omit<AuditRecord, 'origin' | 'clientId'>) =>
    deps.audit.record({ ...entry, origin: requestOrigin(ctx), clientId: String(interaction.params.client_id) });

  const answer = (ctx: Context, body: unknown) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  };

  router.post('/sign-in/options', async (ctx) => {
    const { interaction } = await inPrompt(ctx, 'login');
    answer(ctx, await deps.passkeys.authenticationOptions(binding(interaction)));
  });

  router.post('/sign-in', async (ctx) => {
    const { interaction } = await inPrompt(ctx, 'login');
    const { credential } = parseBody(signInBody, ctx.request.body);
    const result = await deps.passkeys.verifyAuthentication(binding(interaction), credential);
    if (!result.ok) {
      await audit(ctx, interaction, {
        event: 'sign_in_failed',
        outcome: 'failure',
        accountId: result.accountId,
        detail: { method: 'passkey', reason: result.reason },
      });
      throw refusal(result);
    }
    const account = await deps.accounts.findById(result.accountId);
    const refused = account && signInRefusal(account);
    if (refused) {
      await audit(ctx, interaction, {
        event: 'sign_in_refused',
        outcome: 'failure',
        accountId: result.accountId,
        detail: { method: result.method, status: account.status },
      });
      throw new ScriptError(403, 'account_suspended', refused);
    }
    await audit(ctx, interaction, {
      event: 'sign_in',
      outcome: 'success',
      accountId: result.accountId,
      detail: {
        method: result.method,
        name: result.passkey.name,
        ...(result.backedUpChanged ? { backed_up: result.backedUpChanged.to } : {}),
      },
    });
    const login = { accountId: result.accountId, ...firstFactor(result.method) };
    answer(ctx, { redirectTo: await saveInteractionResult(interaction, { login }) });
  });

  router.post('/second-factor/options', async (ctx) => {
    const { interaction, accountId } = await inPrompt(ctx, 'mfa');
    const options = await deps.passkeys.authenticationOptions(binding(interaction), accountId);
    if (!options.allowCredentials?.length) throw new ScriptError(404, 'no_passkey', text('verification.passkey.none'));
    answer(ctx, options);
  });

  router.post('/second-factor', async (ctx) => {
    const { interaction, accountId } = await inPrompt(ctx, 'mfa');
    const { credential, remember } = parseBody(secondFactorBody, ctx.request.body);
    const result = await deps.passkeys.verifyAuthentication(binding(interaction), credential, accountId);
    if (!result.ok) {
      await audit(ctx, interaction, {
        event: 'second_factor_failed',
        outcome: 'failure',
        accountId,
        detail: { method: 'passkey', reason: result.reason },
      });
      throw refusal(result);
    }
    answer(ctx, { redirectTo: await deps.secondFactor.complete(ctx, interaction, result.method, { remember }) });
  });

  // The mfa pages' rule (mfa-options.ts): only a person with no second factor yet, or a session that
  // has already passed one; else whoever holds just the first factor could plant a passkey.
  const enrollingAccount = async (interaction: Interaction, accountId: string) => {
    const account = await deps.accounts.findById(accountId);
    if (!account) throw new ScriptError(400, 'invalid_request', text('errors.signInEnded.message'));
    if (!mayEnroll(interaction, await deps.accounts.factorSummary(accountId))) {
      throw new ScriptError(403, 'forbidden', text('verification.passkey.hasSecondStep'));
    }
    return account;
  };

  router.post('/enroll/options', async (ctx) => {
    const { interaction, accountId } = await inPrompt(ctx, 'mfa');
    const account = await enrollingAccount(interaction, accountId);
    answer(ctx, await deps.passkeys.registrationOptions(account, binding(interaction)));
  });

  router.post('/enroll', async (ctx) => {
    const { interaction, accountId } = await inPrompt(ctx, 'mfa');
    const { credential, name } = parseBody(enrollBody, ctx.request.body);
    await enrollingAccount(interaction, accountId);
    const result = await deps.passkeys.verifyRegistration(
      accountId,
      binding(interaction),
      credential,
      name,
      pageLocale(ctx),
      String(interaction.params.client_id),
    );
    if (!result.ok) throw refusal(result);
    await audit(ctx, interaction, {
      event: 'factor_added',
      outcome: 'success',
      accountId,
      detail: { factor: 'passkey', name: result.passkey.name },
    });
    answer(ctx, { redirectTo: await deps.secondFactor.complete(ctx, interaction, result.method, { enrolled: true }) });
  });

  // "Sign in faster next time" (passkey-offer.ts): a passkey made after a code sign-in, by a person
  // with no second factor yet, as enrolling one during a sign-in is (mfa-options.ts mayEnroll).
  const offered = async (interaction: Interaction) => {
    const held = await deps.passkeyOffer.peek(interaction.uid);
    const account = held && (await deps.accounts.findById(held.accountId));
    if (!held || !account) throw new ScriptError(400, 'invalid_request', text('errors.signInEnded.message'));
    if (!(await deps.accounts.passkeyOfferDue({ ...account, passkey_offer_skipped_at: null })))
      throw new ScriptError(403, 'forbidden', text('verification.passkey.hasSecondStep'));
    return { held, account };
  };

  router.post('/offer/options', async (ctx) => {
    const { interaction } = await inPrompt(ctx, 'login');
    const { account } = await offered(interaction);
    answer(ctx, await deps.passkeys.registrationOptions(account, binding(interaction)));
  });

  router.post('/offer', async (ctx) => {
    const { interaction } = await inPrompt(ctx, 'login');
    const { credential, name } = parseBody(enrollBody, ctx.request.body);
    const { held } = await offered(interaction);
    const result = await deps.passkeys.verifyRegistration(
      held.accountId,
      binding(interaction),
      credential,
      name,
      pageLocale(ctx),
      String(interaction.params.client_id),
    );
    if (!result.ok) throw refusal(result);
    if (!(await deps.passkeyOffer.take(interaction.uid)))
      throw new ScriptError(400, 'invalid_request', text('errors.signInEnded.message'));
    await audit(ctx, interaction, {
      event: 'factor_added',
      outcome: 'success',
      accountId: held.accountId,
      detail: { factor: 'passkey', name: result.passkey.name, offered: true },
    });
    // Making the passkey took the person's verification on it, as enrolling one at the mfa prompt does.
    const login = { accountId: held.accountId, ...addFactor(firstFactor(held.channel).amr, result.method) };
    const next = await saveInteractionResult(interaction, { login });
    const codes = await deps.backupCodes.issueIfNone(held.accountId);
    if (!codes) return answer(ctx, { redirectTo: next });
    await deps.handOff.hold(`interaction:${interaction.uid}`, { codes, next });
    answer(ctx, { redirectTo: `/interaction/${interaction.uid}/mfa/backup-codes` });
  });

  return router.routes();
}
