import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

const { base, Prompt, Check } = interactionPolicy;

/**
 * Our authentication context classes, weakest first: one factor; two factors; and phishing-resistant,
 * meaning a passkey (origin-bound, with user verification) took part.
 */
export const ACR_VALUES = ['1fa', 'mfa', 'phr'] as const;
export type Acr = (typeof ACR_VALUES)[number];

const RANK: Record<Acr, number> = { '1fa': 1, mfa: 2, phr: 3 };

export function isAcr(value: unknown): value is Acr {
  return typeof value === 'string' && value in RANK;
}

/** Whether a session signed in at `acr` satisfies a requirement of `required`. */
export function satisfies(acr: unknown, required: Acr): boolean {
  return isAcr(acr) && RANK[acr] >= RANK[required];
}

/**
 * The weakest level among those the relying party asked for (acr_values, or the acr claim
 * request): OpenID Connect Core 3.1.2.1 lists acceptable values, any one of which will do.
 * Values we do not define are ignored, as acr_values is a voluntary request.
 */
export function requestedAcr(ctx: KoaContextWithOIDC): Acr | undefined {
  const request = ctx.oidc.claims?.id_token?.acr as { value?: unknown; values?: unknown } | null | undefined;
  const values = [request?.value, ...(Array.isArray(request?.values) ? request.values : [])].filter(isAcr);
  return values.sort((a, b) => RANK[a] - RANK[b])[0];
}

/**
 * oidc-provider's login and consent prompts, with an `mfa` prompt between them. It asks for a second
 * factor when the person has one and the session has not used it, and steps up when the relying
 * party asks for more than the session has. With prompt=none, a step-up the session cannot meet is
 * `unmet_authentication_requirements` (OpenID Connect Core 3.1.2.6 lets a provider name its error;
 * the name is the one OpenID Connect's errata and RFC 9470 use).
 */
export function buildInteractionPolicy(
  hasSecondFactor: (accountId: string) => Promise<boolean>,
  remembered: (ctx: KoaContextWithOIDC, accountId: string) => Promise<boolean>,
) {
  const policy = base();
  const mfa = new Prompt(
    { name: 'mfa', requestable: false },
    (ctx) => ({ acr: highest(requestedAcr(ctx), 'mfa') }),
    new Check(
      'acr_values',
      'the requested authentication context could not be obtained',
      'unmet_authentication_requirements',
      (ctx) => {
        const required = requestedAcr(ctx);
        if (!required || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
        return satisfies(ctx.oidc.session?.acr, required) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      },
    ),
    new Check('second_factor', 'the account requires a second factor', 'interaction_required', async (ctx) => {
      const { accountId, acr } = ctx.oidc.session ?? {};
      if (!accountId || satisfies(acr, 'mfa')) return Check.NO_NEED_TO_PROMPT;
      if (!(await hasSecondFactor(accountId))) return Check.NO_NEED_TO_PROMPT;
      // A browser the person chose to remember skips the step only here, where the app asked for no
      // acr: a request for `mfa` or `phr` was already decided by the check above, and the session's
      // acr stays `1fa` and its amr the first factor's, so the ID token says what really happened.
      return (await remembered(ctx, accountId)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  policy.add(mfa, 1);
  return policy;
}

function highest(a: Acr | undefined, b: Acr): Acr {
  return a && RANK[a] > RANK[b] ? a : b;
}
