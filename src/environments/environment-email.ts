import { DEFAULT_LOCALE } from '../i18n/locales.ts';
import { translator } from '../i18n/translator.ts';
import type { EmailMessage } from '../notifications/message.ts';

export type EnvironmentNotice =
  | { kind: 'low_balance'; name: string; balance: number; pricePerHour: number; link: string }
  | { kind: 'stopped_unpaid'; name: string; pricePerHour: number; link: string }
  | { kind: 'idle_warning'; name: string; stopAt: Date; link: string }
  | { kind: 'stopped_idle'; name: string; link: string };

/**
 * What FairyID tells the person who created an environment when money or idleness is about to stop
 * it. The reconciler sends these, outside any request, and nobody's language is stored: English.
 */
type Area = 'lowBalance' | 'stoppedUnpaid' | 'idleWarning' | 'stoppedIdle';

export function environmentEmail(to: string, notice: EnvironmentNotice): EmailMessage {
  const words = translator(DEFAULT_LOCALE);
  const mail = (area: Area, params: Record<string, string | number>): EmailMessage => ({
    to,
    subject: words.t(`email.environment.${area}.subject`, params),
    text: words.t(`email.environment.${area}.body`, params),
  });
  const { name, link } = notice;
  switch (notice.kind) {
    case 'low_balance':
      return mail('lowBalance', { name, link, price: notice.pricePerHour, balance: notice.balance });
    case 'stopped_unpaid':
      return mail('stoppedUnpaid', { name, link, price: notice.pricePerHour });
    case 'idle_warning':
      return mail('idleWarning', { name, link, stopAt: notice.stopAt.toUTCString() });
    case 'stopped_idle':
      return mail('stoppedIdle', { name, link });
  }
}
