import type { z } from 'zod';
import type { PasskeyRefusal, Refused } from '../accounts/passkey.service.ts';
import { ApiError } from '../shared/api-error.ts';

// The passkey JSON endpoints' answers, shared by the sign-in ceremonies and /account/passkeys.

/** What the page says for each refusal: the same few words whatever the detail, which goes to the audit trail. */
export const REFUSALS: Record<PasskeyRefusal, { status: number; message: string }> = {
  challenge: { status: 400, message: 'That passkey request expired or was already used. Try again.' },
  unknown_credential: {
    status: 403,
    message: 'That passkey is not registered with FairyID. Sign in another way, then add it again.',
  },
  wrong_account: { status: 403, message: 'That passkey belongs to another account. Use a passkey of this account.' },
  invalid: { status: 403, message: 'That passkey could not be verified. Try again, or sign in another way.' },
  user_not_verified: {
    status: 403,
    message: 'Your device did not confirm it was you (a fingerprint, face or PIN). Try again.',
  },
  cloned: {
    status: 403,
    message: 'That passkey was refused because it may have been copied. Sign in another way and check your passkeys.',
  },
  backup_state: {
    status: 403,
    message:
      'That passkey was refused because it no longer matches the one you added. Sign in another way and check your passkeys.',
  },
  already_registered: { status: 400, message: 'That passkey is already registered.' },
};

export function refusal(result: Refused): ApiError {
  const { status, message } = REFUSALS[result.reason];
  return new ApiError(
    status,
    result.reason === 'challenge' ? 'expired_challenge' : `passkey_${result.reason}`,
    message,
  );
}

/** A request body of the expected shape, or a 400 naming nothing internal. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new ApiError(
      400,
      'invalid_request',
      'The passkey response was not understood. Reload the page and try again.',
    );
  return parsed.data;
}
