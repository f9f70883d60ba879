import type { Context } from 'koa';
import type { BackupCodeService } from '../accounts/backup-code.service.ts';
import type { RememberedBrowsers } from '../accounts/remembered-browser.service.ts';
import { setRememberedBrowserToken } from '../http/remembered-browser-cookie.ts';
import { clientIp } from '../http/request-origin.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { addFactor, type Method } from './authentication-methods.ts';
import type { BackupCodeHandOff } from './backup-code-hand-off.ts';
import { interactionEnded, saveInteractionResult, type Interaction } from './interaction-details.ts';

/**
 * The end of the `mfa` prompt, whichever factor met it: the session's login is replaced by one
 * with the added factor, and the browser goes on. A person who has just enrolled their first
 * factor gets their backup codes on the way, shown once.
 */
export function createSecondFactorCompletion(deps: {
  backupCodes: BackupCodeService;
  rememberedBrowsers: RememberedBrowsers;
  handOff: BackupCodeHandOff;
  audit: AuditService;
}) {
  return {
    /** Where the browser goes next: back into the authorization, or first to its backup codes. */
    async complete(
      ctx: Context,
      interaction: Interaction,
      method: Method,
      options: { enrolled?: boolean; remember?: boolean } = {},
    ): Promise<string> {
      const accountId = interaction.session?.accountId;
      if (interaction.prompt.name !== 'mfa' || !accountId) throw interactionEnded();
      const login = { accountId, ...addFactor(interaction.session?.amr, method) };
      const next = await saveInteractionResult(interaction, { login });
      await deps.audit.record({
        event: 'second_factor',
        outcome: 'success',
        origin: requestOrigin(ctx),
        accountId,
        clientId: String(interaction.params.client_id),
        detail: { method, enrolled: options.enrolled === true, remember: options.remember === true },
      });
      // "Remember this browser": later sign-ins here that ask for nothing more skip this step.
      if (options.remember) {
        const { token, maxAgeSeconds } = await deps.rememberedBrowsers.remember(accountId, {
          userAgent: ctx.get('user-agent') || undefined,
          ip: clientIp(ctx),
        });
        setRememberedBrowserToken(ctx, token, maxAgeSeconds);
      }
      if (!options.enrolled) return next;
      const codes = await deps.backupCodes.issueIfNone(accountId);
      if (!codes) return next;
      await deps.handOff.hold(`interaction:${interaction.uid}`, { codes, next });
      return `/interaction/${interaction.uid}/mfa/backup-codes`;
    },
  };
}

export type SecondFactorCompletion = ReturnType<typeof createSecondFactorCompletion>;
