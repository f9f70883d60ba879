import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { MailDeliveryError, type Mailer } from './message.ts';

/**
 * SMTP through nodemailer. Every phase has a short timeout, so a slow server costs the person a
 * few seconds and a clear message rather than a hung page.
 */
export function createSmtpMailer(options: { url: string; timeoutMs: number; from: string }, log: Logger): Mailer {
  const transport = nodemailer.createTransport({
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    async send(message) {
      try {
        await transport.sendMail({ from: options.from, ...message });
      } catch (error) {
        log.warn({ err: error, to: message.to }, 'email delivery failed');
        throw new MailDeliveryError('email delivery failed', { cause: error });
      }
    },
  };
}
