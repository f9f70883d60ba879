import type { EmailMessage } from '../notifications/message.ts';

export function signInCodeEmail(to: string, code: string, lifetime: string): EmailMessage {
  return {
    to,
    subject: `${code} is your FairyID sign-in code`,
    text: [
      `Your FairyID sign-in code is ${code}.`,
      '',
      `It expires in ${lifetime} and works once.`,
      'If you did not try to sign in, you can ignore this email: nobody can sign in without the code.',
    ].join('\n'),
  };
}
