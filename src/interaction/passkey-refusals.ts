import type { z } from 'zod';
import type { PasskeyRefusal, Refused } from '../accounts/passkey.service.ts';
import { ScriptError } from '../http/json-errors.ts';
import { text } from '../i18n/translator.ts';

// The passkey JSON endpoints' answers, shared by the sign-in ceremonies and /account/passkeys.

/** The status of each refusal; the page says the same few words whatever the detail, which goes to the audit trail. */
const STATUS: Record<PasskeyRefusal, number> = {
  challenge: 400,
  unknown_credential: 403,
  wrong_account: 403,
  invalid: 403,
  user_not_verified: 403,
  cloned: 403,
  backup_state: 403,
  already_registered: 400,
};

export function refusal(result: Refused): ScriptError {
  const code = result.reason === 'challenge' ? 'expired_challenge' : `passkey_${result.reason}`;
  return new ScriptError(STATUS[result.reason], code, text(`verification.passkey.${result.reason}`));
}

/** A request body of the expected shape, or a 400 naming nothing internal. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ScriptError(400, 'invalid_request', text('verification.passkey.notUnderstood'));
  return parsed.data;
}
