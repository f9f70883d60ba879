import { DATE_LOCALES } from '../i18n/locales.ts';
import { translator } from '../i18n/translator.ts';
import type { EmailMessage } from '../notifications/message.ts';
import type { InvitationMail } from './invitation.service.ts';

export function invitationEmail(mail: InvitationMail): EmailMessage {
  const words = translator(mail.locale);
  const expires = new Intl.DateTimeFormat(DATE_LOCALES[mail.locale], {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(mail.expiresAt);
  return {
    to: mail.to,
    subject: words.t('email.invitation.subject', { organization: mail.organizationName }),
    text: words.t('email.invitation.body', {
      organization: mail.organizationName,
      role: words.t(`email.invitation.role.${mail.role}`),
      link: mail.link,
      expires: words.t('time.utc', { time: expires }),
      address: mail.to,
    }),
  };
}
