import type { Logger } from 'pino';
import type { KeyValueStore } from '../db/key-value.ts';
import type { EmailMessage, Mailer, SmsMessage, SmsSender } from './message.ts';

const OUTBOX_KEY = 'dev:outbox';
const OUTBOX_SIZE = 50;
const OUTBOX_TTL = 24 * 3600;

export type OutboxEntry = ((EmailMessage & { channel: 'email' }) | (SmsMessage & { channel: 'sms' })) & {
  sentAt: string;
};

/**
 * Development delivery: messages go to the log and to a short list in the shared store, so that a
 * person (or a test) can read codes at GET /dev/outbox, across instances when Redis is shared.
 */
export function createDevOutbox(kv: KeyValueStore, log: Logger) {
  const keep = (entry: OutboxEntry) => kv.pushCapped(OUTBOX_KEY, JSON.stringify(entry), OUTBOX_SIZE, OUTBOX_TTL);
  const mailer: Mailer = {
    async send(message) {
      log.info({ to: message.to, subject: message.subject, text: message.text }, 'development outbox: email');
      await keep({ channel: 'email', ...message, sentAt: new Date().toISOString() });
    },
  };
  const sms: SmsSender = {
    async send(message) {
      log.info({ to: message.to, text: message.text }, 'development outbox: sms');
      await keep({ channel: 'sms', ...message, sentAt: new Date().toISOString() });
    },
  };
  return {
    mailer,
    sms,
    async latest(): Promise<OutboxEntry[]> {
      return (await kv.list(OUTBOX_KEY)).map((raw) => JSON.parse(raw) as OutboxEntry);
    },
  };
}

export type DevOutbox = ReturnType<typeof createDevOutbox>;
