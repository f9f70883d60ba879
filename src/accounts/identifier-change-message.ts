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

/**
 * To the address an account has just moved away from: if someone else moved it (a stolen session
 * with a recent sign-in), this is how the owner finds out while there is still time to act.
 */
export function identifierChangedNoticeEmail(to: string, newAddress: string, issuer: string): EmailMessage {
  return {
    to,
    subject: 'Your FairyID account no longer signs in with this email',
    text: [
      `The email address of your FairyID account was changed to ${newAddress}, and this address no longer signs in to it.`,
      '',
      `If you made this change, there is nothing to do. If you did not, sign in at ${issuer}/account with your phone number or passkey,`,
      'sign out the devices you do not know, and change the address back.',
    ].join('\n'),
  };
}

export function identifierChangedNoticeSms(to: string, newNumber: string): SmsMessage {
  return {
    to,
    text: `The phone number of your FairyID account was changed to ${newNumber}; this number no longer signs in to it. If you did not do this, sign in with your email and check your devices.`,
  };
}
