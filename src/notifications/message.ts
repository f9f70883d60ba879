export type EmailMessage = { to: string; subject: string; text: string; html?: string };

export interface Mailer {
  /** Resolves once the message is accepted for delivery; rejects with MailDeliveryError otherwise. */
  send(message: EmailMessage): Promise<void>;
}

export class MailDeliveryError extends Error {
  override name = 'MailDeliveryError';
}

/** A text message to a phone number in E.164 form (+14155552671). */
export type SmsMessage = { to: string; text: string };

export interface SmsSender {
  /** Resolves once the provider accepts the message; rejects with SmsDeliveryError otherwise. */
  send(message: SmsMessage): Promise<void>;
}

export class SmsDeliveryError extends Error {
  override name = 'SmsDeliveryError';
}
