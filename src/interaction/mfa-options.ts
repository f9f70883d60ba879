import type { Account } from '../accounts/account.table.ts';
import { hasSecondFactor, type FactorSummary } from '../accounts/factor-summary.repository.ts';
import { isAcr, satisfies, type Acr } from '../oidc/authentication-policy.ts';
import { codeChannelUsed } from './authentication-methods.ts';
import type { Interaction } from './interaction-details.ts';
import type { Recipient } from '../verification/one-time-codes.ts';

export type MfaOptions = {
  /** What the `mfa` prompt asks for: two factors, or a passkey among them. */
  required: Exclude<Acr, '1fa'>;
  totp: boolean;
  passkey: boolean;
  backupCode: boolean;
  /** How many unused backup codes the person has, shown so they know when to make new ones. */
  backupCodesLeft: number;
  /** A code by the channel the first factor did not use, when the person has one. */
  otherChannel: Recipient | undefined;
  /** Whether a factor may be added in this sign-in (see `mayEnroll`). */
  mayEnroll: boolean;
};

/**
 * Adding a factor during a sign-in is safe only when it cannot bypass one the person already has:
 * when they have none, or when this session has already passed one. Otherwise whoever holds just
 * the first factor (a mailbox, say) could enroll their own authenticator and walk past the real one.
 */
export function mayEnroll(interaction: Interaction, summary: FactorSummary): boolean {
  return !hasSecondFactor(summary) || satisfies(interaction.session?.acr, 'mfa');
}

/** Which ways through the `mfa` prompt this person has in this interaction. */
export function mfaOptions(
  interaction: Interaction,
  account: Account,
  summary: FactorSummary,
  smsAvailable: boolean,
): MfaOptions {
  const asked = (interaction.prompt.details as { acr?: unknown }).acr;
  const required = isAcr(asked) && asked !== '1fa' ? asked : 'mfa';
  const amr = interaction.session?.amr as string[] | undefined;
  const enroll = mayEnroll(interaction, summary);
  if (required === 'phr') {
    return {
      required,
      totp: false,
      passkey: summary.passkeys > 0,
      backupCode: false,
      backupCodesLeft: summary.backupCodesLeft,
      otherChannel: undefined,
      mayEnroll: enroll,
    };
  }
  const used = codeChannelUsed(amr);
  let otherChannel: Recipient | undefined;
  if (used === 'email' && smsAvailable && account.phone_number && account.phone_number_verified) {
    otherChannel = { channel: 'sms', address: account.phone_number };
  } else if (used === 'sms' && account.email && account.email_verified) {
    otherChannel = { channel: 'email', address: account.email };
  }
  return {
    required,
    totp: summary.totp,
    passkey: summary.passkeys > 0,
    backupCode: hasSecondFactor(summary) && summary.backupCodesLeft > 0,
    backupCodesLeft: summary.backupCodesLeft,
    otherChannel,
    mayEnroll: enroll,
  };
}
