import type { EmailMessage, SmsMessage } from '../notifications/message.ts';

/**
 * The code that proves a person receives mail at the address they are moving their account to.
 * It says what it is for, unlike a sign-in code, so that someone who did not ask knows that a
 * signed-in person typed their address, and that ignoring it keeps it off that account.
 */
export function identifierChangeEmail(to: string, code: string, lifetime: string): EmailMessage {
  return {
    to,
    subject: `${code} is your code to confirm this email for FairyID`,
    text: [
      `Someone signed in to FairyID asked to use this email address for their account. The code to confirm it is ${code}.`,
      '',
      `It expires in ${lifetime} and works once.`,
      'If that was not you, ignore this email: without the code, this address is not added to any account.',
    ].join('\n'),
  };
}

/** As the email, in a text message's few words; the last line is an origin-bound code as in sign-in-sms.ts. */
export function identifierChangeSms(to: string, code: string, lifetime: string, issuer: string): SmsMessage {
  return {
    to,
    text: `${code} is your code to add this phone number to your FairyID account. It expires in ${lifetime}. Do not share it.\n\n@${new URL(issuer).hostname} #${code}`,
  };
}
