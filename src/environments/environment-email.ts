import type { EmailMessage } from '../notifications/message.ts';

export type EnvironmentNotice =
  | { kind: 'low_balance'; name: string; balance: number; pricePerHour: number; link: string }
  | { kind: 'stopped_unpaid'; name: string; pricePerHour: number; link: string }
  | { kind: 'idle_warning'; name: string; stopAt: Date; link: string }
  | { kind: 'stopped_idle'; name: string; link: string };

/** What FairyID tells the person who created an environment when money or idleness is about to stop it. */
export function environmentEmail(to: string, notice: EnvironmentNotice): EmailMessage {
  switch (notice.kind) {
    case 'low_balance':
      return {
        to,
        subject: `${notice.name}: DUST for less than an hour left`,
        text: [
          `Your environment ${notice.name} costs ${notice.pricePerHour} DUST per started hour, and the wallet paying for it holds ${notice.balance} DUST.`,
          'When it cannot pay for the next hour, FairyID stops it (your files are kept).',
          '',
          `Add DUST or stop it yourself: ${notice.link}`,
        ].join('\n'),
      };
    case 'stopped_unpaid':
      return {
        to,
        subject: `${notice.name} was stopped: not enough DUST`,
        text: [
          `Your environment ${notice.name} was stopped because its wallet could not pay the next hour (${notice.pricePerHour} DUST).`,
          'Nothing was deleted: the files under /home are kept. Start it again once the wallet holds enough DUST.',
          '',
          notice.link,
        ].join('\n'),
      };
    case 'idle_warning':
      return {
        to,
        subject: `${notice.name} will stop soon: nobody has used it for a while`,
        text: [
          `Your environment ${notice.name} has had no terminal activity for a while. FairyID will stop it at ${notice.stopAt.toUTCString()} to save your DUST (files are kept).`,
          '',
          `Still working? Choose "Keep it running" here: ${notice.link}`,
        ].join('\n'),
      };
    case 'stopped_idle':
      return {
        to,
        subject: `${notice.name} was stopped after being idle`,
        text: [
          `Your environment ${notice.name} was stopped after a warning because nobody used it. Your files are kept; start it again whenever you like.`,
          '',
          notice.link,
        ].join('\n'),
      };
  }
}
