import type { Logger } from 'pino';
import type { EventSettings } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { createPeriodicJob, type Ticker } from '../shared/periodic-job.ts';
import type { Broker } from './broker.ts';
import type { OutboxRow, WebhookDelivery, WebhookEndpoint } from './event.table.ts';
import { createOutboxRepository } from './outbox.repository.ts';
import { createWebhookRepository } from './webhook.repository.ts';
import type { WebhookSecrets } from './webhook-secrets.ts';
import { sendWebhook } from './webhook-sender.ts';

const OUTBOX_BATCH = 100;
const DELIVERY_BATCH = 50;
/** Beyond the send timeout: a lease outlives any attempt its instance is still making. */
const LEASE_MARGIN_MS = 30_000;
const SWEEP_EVERY_MS = 60_000;

export type DispatcherDeps = {
  db: Db;
  clock: Clock;
  settings: EventSettings;
  secrets: WebhookSecrets;
  broker: Broker | undefined;
  log: Logger;
  /** Tells the endpoint's owners that it was disabled after too many failures. */
  notifyDisabled(endpoint: WebhookEndpoint): Promise<void>;
  /** Told of every delivery attempt once it is recorded (the metrics count them). */
  onAttempt?: ((success: boolean) => void) | undefined;
  /** What starts a pass every EVENTS_POLL_MS; real timers unless a test turns it by hand. */
  ticker?: Ticker | undefined;
};

const matches = (endpoint: WebhookEndpoint, row: OutboxRow) =>
  (endpoint.organization_id === null || endpoint.organization_id === row.organization_id) &&
  (endpoint.event_types.includes('*') || endpoint.event_types.includes(row.type));

/**
 * Moves events out of the outbox, safely on any number of instances:
 *
 * 1. Dispatch: in one transaction, claim the oldest waiting event of each subject (`FOR UPDATE SKIP
 *    LOCKED`, and never one whose subject has an earlier event waiting), publish each to the broker,
 *    add a delivery for every matching webhook endpoint, and mark them dispatched. A crash before the
 *    commit leaves them waiting; the next run publishes them again under the same id (at least once).
 * 2. Deliver: lease due deliveries, send them, and record each attempt; a failure is retried on the
 *    configured schedule with jitter, and an endpoint failing too many times in a row is disabled.
 * 3. Sweep: dispatched events and finished deliveries older than the retention go.
 */
export function createEventDispatcher(deps: DispatcherDeps) {
  const { db, clock, settings, log } = deps;
  const webhooks = settings.webhooks;
  let lastSweep = 0;

  async function dispatchBatch(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const outbox = createOutboxRepository(trx);
      const rows = await outbox.claimWaiting(OUTBOX_BATCH);
      if (!rows.length) return 0;
      for (const row of rows) {
        const body = JSON.stringify(row.payload);
        await deps.broker?.publish({ id: row.event_id, type: row.type, subject: row.subject, body });
      }
      const repository = createWebhookRepository(trx);
      const organizations = [...new Set(rows.flatMap((row) => (row.organization_id ? [row.organization_id] : [])))];
      const endpoints = await repository.enabledEndpointsFor(organizations);
      const now = new Date(clock.now());
      await repository.insertDeliveries(
        rows.flatMap((row) =>
          endpoints
            .filter((endpoint) => matches(endpoint, row))
            .map((endpoint) => ({
              endpoint_id: endpoint.id,
              event_id: row.event_id,
              event_type: row.type,
              body: JSON.stringify(row.payload),
              seq: row.seq,
            })),
        ),
        now,
      );
      await outbox.markDispatched(
        rows.map((row) => row.seq),
        now,
      );
      return rows.length;
    });
  }

  /** Waits before retry number `index` (0-based), ±20% so that failed deliveries do not retry in lockstep. */
  function retryDelay(index: number): number | undefined {
    const base = webhooks.retryScheduleMs[index];
    return base === undefined ? undefined : Math.round(base * (0.8 + Math.random() * 0.4));
  }

  async function attempt(delivery: WebhookDelivery & { url: string; secret_sealed: string }) {
    const repository = createWebhookRepository(db);
    const result = await sendWebhook({
      url: delivery.url,
      secret: deps.secrets.open(delivery.endpoint_id, delivery.secret_sealed),
      eventId: delivery.event_id,
      body: delivery.body,
      timeoutMs: webhooks.timeoutMs,
      allowPrivate: webhooks.privateNetworks,
    });
    const now = new Date(clock.now());
    await repository.insertAttempt({
      delivery_id: delivery.id,
      endpoint_id: delivery.endpoint_id,
      attempted_at: now,
      success: result.success,
      status_code: result.statusCode,
      latency_ms: result.latencyMs,
      response_excerpt: result.responseExcerpt,
      error: result.error,
    });
    deps.onAttempt?.(result.success);
    const attempts = delivery.attempts + 1;
    if (result.success) {
      await repository.updateDelivery(delivery.id, {
        status: 'delivered',
        attempts,
        last_status_code: result.statusCode,
        leased_until: null,
        completed_at: now,
      });
      await repository.resetFailures(delivery.endpoint_id);
      return;
    }
    const delay = retryDelay(delivery.retry_index);
    await repository.updateDelivery(
      delivery.id,
      delay === undefined
        ? { status: 'failed', attempts, last_status_code: result.statusCode, leased_until: null, completed_at: now }
        : {
            attempts,
            retry_index: delivery.retry_index + 1,
            next_attempt_at: new Date(now.getTime() + delay),
            last_status_code: result.statusCode,
            leased_until: null,
          },
    );
    const failures = await repository.countFailure(delivery.endpoint_id);
    if (failures >= webhooks.disableAfter) {
      const reason = `disabled after ${failures} failed deliveries in a row (last: ${result.error})`;
      if (await repository.disableEndpoint(delivery.endpoint_id, reason, now)) {
        log.warn({ endpointId: delivery.endpoint_id, failures }, 'webhook endpoint disabled');
        const endpoint = await repository.findEndpoint(delivery.endpoint_id);
        if (endpoint)
          await deps
            .notifyDisabled(endpoint)
            .catch((error: unknown) =>
              log.warn({ err: error, endpointId: endpoint.id }, 'could not tell the owners of a disabled webhook'),
            );
      }
    }
  }

  async function deliverDue(): Promise<number> {
    const now = clock.now();
    const leased = await createWebhookRepository(db).leaseDue(
      new Date(now),
      new Date(now + webhooks.timeoutMs + LEASE_MARGIN_MS),
      DELIVERY_BATCH,
    );
    // One endpoint's deliveries go one after another, in outbox order; endpoints in parallel.
    const byEndpoint = new Map<string, typeof leased>();
    for (const delivery of leased.sort((a, b) => Number(a.seq) - Number(b.seq))) {
      byEndpoint.set(delivery.endpoint_id, [...(byEndpoint.get(delivery.endpoint_id) ?? []), delivery]);
    }
    await Promise.all(
      [...byEndpoint.values()].map(async (queue) => {
        for (const delivery of queue) {
          await attempt(delivery).catch((error: unknown) =>
            log.error({ err: error, deliveryId: delivery.id }, 'webhook attempt could not be recorded'),
          );
        }
      }),
    );
    return leased.length;
  }

  async function sweep() {
    const before = new Date(clock.now() - settings.retentionHours * 3_600_000);
    await createOutboxRepository(db).deleteDispatchedBefore(before);
    await createWebhookRepository(db).deleteFinishedBefore(before);
  }

  /** One pass: everything waiting is dispatched, everything due is attempted once. */
  async function pass() {
    while (!job.stopping && (await dispatchBatch()) > 0);
    while (!job.stopping && (await deliverDue()) === DELIVERY_BATCH);
    if (clock.now() - lastSweep >= SWEEP_EVERY_MS) {
      lastSweep = clock.now();
      await sweep();
    }
  }

  const job = createPeriodicJob({
    intervalMs: settings.pollMs,
    pass,
    onError: (error) => log.error({ err: error }, 'event dispatch failed'),
    ticker: deps.ticker,
  });

  return {
    start: job.start,
    /** Finishes the pass under way (its sends end within the webhook timeout), then stops. */
    async stop() {
      await job.stop();
      await deps.broker?.close();
    },
    /** For tests and operators: one full pass now, resolved when it is done. */
    tick: job.tick,
    sweep,
    backlog: () => createOutboxRepository(db).countWaiting(),
  };
}

export type EventDispatcher = ReturnType<typeof createEventDispatcher>;
