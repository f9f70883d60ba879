import type { EmailMessage } from '../notifications/message.ts';
import type { InvitationMail } from './invitation.service.ts';

export function invitationEmail(mail: InvitationMail): EmailMessage {
  return {
    to: mail.to,
    subject: `You are invited to join ${mail.organizationName} on FairyID`,
    text: [
      `You are invited to join ${mail.organizationName} on FairyID as ${mail.role === 'admin' || mail.role === 'owner' ? 'an' : 'a'} ${mail.role}.`,
      '',
      `Accept or decline here: ${mail.link}`,
      '',
      `The link works until ${mail.expiresAt.toUTCString()}, once, for ${mail.to}.`,
      'If you do not know this organization, ignore this email.',
    ].join('\n'),
  };
}
