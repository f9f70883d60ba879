import type { EmailMessage, SmsMessage } from '../notifications/message.ts';

/** Sent to the address an account had, once the account is deleted: its owner learns of it if it was not them. */
export function accountDeletedEmail(to: string, issuer: string): EmailMessage {
  return {
    to,
    subject: 'Your FairyID account was deleted',
    text: [
      'Your FairyID account, which signed in with this address, was deleted just now.',
      '',
      'Your profile, sign-in methods, devices, app connections and organization memberships are gone.',
      'Apps you used with FairyID may keep what they received from it; ask them to delete it.',
      '',
      `If this was not you, someone had access to your account. You can sign up again at ${issuer}/account;`,
      'it will be a new account.',
    ].join('\n'),
  };
}

export function accountDeletedSms(to: string, issuer: string): SmsMessage {
  return { to, text: `Your FairyID account that signed in with this number was deleted. Not you? ${issuer}/account` };
}
