export type EmailMessage = { to: string; subject: string; text: string; html?: string };

export interface Mailer {
  /** Resolves once the message is accepted for delivery; rejects with MailDeliveryError otherwise. */
  send(message: EmailMessage): Promise<void>;
}

export class MailDeliveryError extends Error {
  override name = 'MailDeliveryError';
}
