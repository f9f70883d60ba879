import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { EventSettings } from '../config.ts';

/** A JetStream stream's duplicate window: a re-published event (same Nats-Msg-Id) within it is dropped. */
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;

export type Broker = {
  /** Resolves once JetStream has stored the event (or recognised it as a duplicate). */
  publish(event: { id: string; type: string; subject: string; body: string }): Promise<void>;
  close(): Promise<void>;
};

/**
 * NATS JetStream: every event on `<prefix>.<type>` (fairyid.events.dust.charged) in one stream that
 * captures `<prefix>.>`. `Nats-Msg-Id` is the event id, so JetStream drops a re-publication within its
 * duplicate window, and consumers outside it de-duplicate on the same id; `FairyID-Subject` names the
 * event's subject, whose events are published in order.
 */
export async function connectBroker(settings: NonNullable<EventSettings['nats']>, log: Logger): Promise<Broker> {
  const url = new URL(settings.url);
  const connection: NatsConnection = await connect({
    servers: `${url.hostname}:${url.port || '4222'}`,
    ...(url.protocol === 'tls:' ? { tls: {} } : {}),
    ...(url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : {}),
    name: 'fairyid',
    // The server may be restarted under us: the client reconnects for as long as it takes.
    maxReconnectAttempts: -1,
  });
  try {
    const manager = await jetstreamManager(connection);
    const subjects = [`${settings.subjectPrefix}.>`];
    const existing = await manager.streams.info(settings.stream).catch(() => undefined);
    if (!existing) {
      await manager.streams.add({ name: settings.stream, subjects, duplicate_window: DUPLICATE_WINDOW_NS });
    } else if (!existing.config.subjects?.includes(subjects[0] as string)) {
      await manager.streams.update(settings.stream, { subjects: [...(existing.config.subjects ?? []), ...subjects] });
    }
  } catch (error) {
    await connection.close().catch(() => {});
    throw error;
  }
  const client: JetStreamClient = jetstream(connection);
  log.info({ stream: settings.stream, prefix: settings.subjectPrefix }, 'publishing events to NATS JetStream');
  return {
    async publish(event) {
      const extra = headers();
      extra.set('FairyID-Subject', event.subject);
      extra.set('Content-Type', 'application/json');
      await client.publish(`${settings.subjectPrefix}.${event.type}`, event.body, {
        msgID: event.id,
        headers: extra,
        // Never a stream other than ours: a misconfigured subject fails instead of landing elsewhere.
        expect: { streamName: settings.stream },
      });
    },
    async close() {
      await connection.drain().catch(() => connection.close());
    },
  };
}
