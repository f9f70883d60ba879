import type { EmailMessage } from '../notifications/message.ts';

/** What the owners of an endpoint are told when FairyID stops sending to it. */
export function webhookDisabledEmail(
  to: string,
  endpoint: { url: string; reason: string; where: string; link: string },
): EmailMessage {
  return {
    to,
    subject: 'A webhook endpoint was disabled',
    text: [
      `FairyID stopped sending events to ${endpoint.url} (${endpoint.where}): it was ${endpoint.reason}.`,
      'Deliveries still pending are kept and resume once it is enabled again; events that happen while it is',
      'disabled are not sent to it. When it answers again, enable it with the API:',
      `PATCH ${endpoint.link} with {"enabled": true}.`,
    ].join('\n'),
  };
}
