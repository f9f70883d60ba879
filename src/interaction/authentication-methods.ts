import type { Acr } from '../oidc/authentication-policy.ts';

/** How a person proved who they are in one step of a sign-in. */
export type Method = 'email' | 'sms' | 'totp' | 'backup_code' | 'passkey_hwk' | 'passkey_swk';

export type AuthenticationContext = { amr: string[]; acr: Acr };

// RFC 8176 values. A code by email or from an app or a backup sheet is `otp`; a code by SMS is
// `sms`. A passkey is a key held in hardware (`hwk`, device-bound) or synced by a provider (`swk`),
// used with user verification: two factors in one gesture (`user` + the key), hence `mfa`.
const AMR: Record<Method, string[]> = {
  email: ['otp'],
  sms: ['sms'],
  totp: ['otp'],
  backup_code: ['otp'],
  passkey_hwk: ['hwk', 'user', 'mfa'],
  passkey_swk: ['swk', 'user', 'mfa'],
};

const isPasskey = (amr: string[]) => amr.includes('hwk') || amr.includes('swk');

/** The context of a sign-in that ends with its first factor. */
export function firstFactor(method: Method): AuthenticationContext {
  const amr = AMR[method];
  return { amr: [...amr], acr: isPasskey(amr) ? 'phr' : '1fa' };
}

/**
 * A sign-in through an upstream identity provider. `fed` is not in RFC 8176's registry; it is the
 * value Microsoft Entra uses for the same meaning. The upstream's own `amr` is not carried over: we
 * cannot check what it claims, so a federated sign-in is one factor (`1fa`) whatever it says, and
 * the `mfa` prompt still asks a person with a second factor for it. `provedAddress`: the person also
 * typed a code sent to the account's email (to link the identity to it).
 */
export function federatedSignIn(provedAddress: boolean): AuthenticationContext {
  return { amr: provedAddress ? ['fed', 'otp'] : ['fed'], acr: '1fa' };
}

/** The context after a further factor on top of what the session already proved. */
export function addFactor(previousAmr: readonly string[] | undefined, method: Method): AuthenticationContext {
  const amr = [...new Set([...(previousAmr ?? []).filter((value) => value !== 'mfa'), ...AMR[method], 'mfa'])];
  return { amr, acr: isPasskey(amr) ? 'phr' : 'mfa' };
}

/**
 * Which code channel the session's first factor used, so that the other channel, and only the
 * other one, can serve as a second factor.
 */
export function codeChannelUsed(amr: readonly string[] | undefined): 'email' | 'sms' | undefined {
  if (amr?.includes('sms')) return 'sms';
  // Before a second factor, `otp` can only be the email code: app codes and backup codes are never first.
  if (amr?.includes('otp') && !amr.includes('mfa')) return 'email';
  return undefined;
}
