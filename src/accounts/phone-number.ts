import { ParseError, parsePhoneNumberWithError } from 'libphonenumber-js/max';

export type PhoneNumberProblem =
  /** Letters or symbols that no phone number has. */
  | 'not_a_number'
  /** No leading + and country code: we cannot guess which country a national number belongs to. */
  | 'no_country_code'
  /** The digits do not make a number that exists (an unknown country code, a wrong length or range). */
  | 'invalid';

export type ParsedPhoneNumber = { ok: true; e164: string } | { ok: false; problem: PhoneNumberProblem };

// What people type around the digits of an international number: +44 (0)20 7946-0958, +1.415.555.2671.
const TYPED_NUMBER = /^\+?[\d\s().-]+$/;

/**
 * A phone number as a person typed it, in international format, normalized to E.164 so that one
 * phone is one identifier however it was written. Validated against the full metadata (real
 * ranges per country, not only lengths), since a code texted to a number that cannot exist is a
 * send wasted from the person's budget.
 */
export function parsePhoneNumber(typed: string): ParsedPhoneNumber {
  const input = typed.trim();
  if (!TYPED_NUMBER.test(input) || !/\d/.test(input)) return { ok: false, problem: 'not_a_number' };
  if (!input.startsWith('+')) return { ok: false, problem: 'no_country_code' };
  try {
    const number = parsePhoneNumberWithError(input);
    return number.isValid() ? { ok: true, e164: number.number } : { ok: false, problem: 'invalid' };
  } catch (error) {
    // With the + already there, every parse failure (an unknown country code, too short) is the digits'.
    if (error instanceof ParseError) return { ok: false, problem: 'invalid' };
    throw error;
  }
}

/** An E.164 number the way people read it: +14155552671 becomes +1 415 555 2671. */
export function formatPhoneNumber(e164: string): string {
  return parsePhoneNumberWithError(e164).formatInternational();
}
