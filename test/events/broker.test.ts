import { randomBytes, randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import test from 'ava';
import { apiToken } from '../helpers/api.ts';
import type { PublishedEvent } from '../helpers/events.ts';
import { startTestServer } from '../helpers/server.ts';

// The real NATS server this machine (and CI) runs; each test file gets a stream and subjects of its own.
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

test('every event reaches the real JetStream stream, in order per subject, once per event id', async (t) => {
  const tag = randomBytes(4).toString('hex');
  const stream = `FAIRYID_TEST_${tag}`;
  const prefix = `fairyid-test-${tag}.events`;
  const nats = await connect({ servers: new URL(NATS_URL).host });
  const manager = await jetstreamManager(nats);
  t.teardown(async () => {
    await manager.streams.delete(stream).catch(() => {});
    await nats.close();
  });
  const server = await startTestServer(t, {
    env: { NATS_URL, NATS_STREAM: stream, NATS_SUBJECT_PREFIX: prefix, EVENTS_POLL_MS: '60000' },
  });
  const token = await apiToken(server, 'broker@example.com', ['dust:spend']);
  const { db, eventDispatcher } = server.app.services;
  const accountId = (await db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
  for (const amount of [1, 2, 3, 4, 5]) {
    const response = await fetch(`${server.url}/api/dust/charges`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({ amount, description: `charge ${amount}` }),
    });
    t.is(response.status, 201);
  }
  await eventDispatcher.tick();

  const stored = async () => {
    const info = await manager.streams.info(stream);
    const messages = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await manager.streams.getMessage(stream, { seq });
      if (message) messages.push(message);
    }
    return messages;
  };
  const messages = await stored();
  const outbox = await db.selectFrom('event_outbox').select(['event_id', 'type', 'subject']).orderBy('seq').execute();
  t.is(messages.length, outbox.length, 'every event, each once');
  const mine = messages.filter((message) => message.header.get('FairyID-Subject') === `account:${accountId}`);
  // The account's events in the order they happened: created, DUST credited, signed in, then the charges.
  t.deepEqual(
    mine.map((message) => message.subject),
    outbox.filter((row) => row.subject === `account:${accountId}`).map((row) => `${prefix}.${row.type}`),
  );
  const charges = mine.filter((message) => message.subject === `${prefix}.dust.charged`);
  t.deepEqual(
    charges.map((message) => message.json<PublishedEvent>().data.amount),
    [1, 2, 3, 4, 5],
  );
  for (const message of mine) t.is(message.header.get('Nats-Msg-Id'), message.json<PublishedEvent>().id);

  // At least once: events dispatched again (a crash before the commit) are dropped by JetStream as duplicates.
  await db.updateTable('event_outbox').set({ dispatched_at: null }).execute();
  await eventDispatcher.tick();
  t.is((await stored()).length, outbox.length);
  t.is((await db.selectFrom('event_outbox').select('seq').where('dispatched_at', 'is', null).execute()).length, 0);
});
