import { randomUUID } from 'node:crypto';
import { type Insertable, sql, type Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { WebhookAttemptsTable, WebhookDelivery, WebhookEndpoint, WebhookEndpointsTable } from './event.table.ts';

/** SQL for webhook endpoints, their deliveries and every attempt. */
export function createWebhookRepository(db: Db) {
  return {
    insertEndpoint(row: {
      id: string;
      organization_id: string | null;
      url: string;
      description: string | null;
      event_types: string[];
      secret_sealed: string;
      created_by: string;
      updated_at: Date;
    }): Promise<WebhookEndpoint> {
      return db
        .insertInto('webhook_endpoints')
        .values({ ...row, event_types: JSON.stringify(row.event_types), enabled: true, consecutive_failures: 0 })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** An organization's endpoints, or the platform's (organization null). */
    listEndpoints(organizationId: string | null): Promise<WebhookEndpoint[]> {
      return db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('organization_id', organizationId === null ? 'is' : '=', organizationId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    findEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
      return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    },

    lockEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
      return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    },

    updateEndpoint(
      id: string,
      patch: Omit<Updateable<WebhookEndpointsTable>, 'event_types'> & { event_types?: string[] },
    ): Promise<WebhookEndpoint | undefined> {
      const { event_types, ...rest } = patch;
      return db
        .updateTable('webhook_endpoints')
        .set({ ...rest, ...(event_types ? { event_types: JSON.stringify(event_types) } : {}) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async deleteEndpoint(id: string): Promise<boolean> {
      const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** Enabled endpoints that may receive events of these organizations (the platform's receive all). */
    enabledEndpointsFor(organizationIds: string[]): Promise<WebhookEndpoint[]> {
      return db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('enabled', '=', true)
        .where((eb) =>
          organizationIds.length
            ? eb.or([eb('organization_id', 'is', null), eb('organization_id', 'in', organizationIds)])
            : eb('organization_id', 'is', null),
        )
        .execute();
    },

    /** One delivery per endpoint and event: a fan-out run twice adds nothing. */
    async insertDeliveries(
      rows: { endpoint_id: string; event_id: string; event_type: string; body: string; seq: string }[],
      at: Date,
    ): Promise<void> {
      if (!rows.length) return;
      await db
        .insertInto('webhook_deliveries')
        .values(
          rows.map((row) => ({
            ...row,
            id: randomUUID(),
            status: 'pending' as const,
            attempts: 0,
            retry_index: 0,
            next_attempt_at: at,
            created_at: at,
          })),
        )
        .onConflict((c) => c.columns(['endpoint_id', 'event_id']).doNothing())
        .execute();
    },

    /**
     * Takes up to `limit` due deliveries of enabled endpoints for this instance until `leaseUntil`.
     * Rows another instance is claiming are skipped; a lease that ran out (its instance died
     * mid-send) makes the delivery due again.
     */
    async leaseDue(
      now: Date,
      leaseUntil: Date,
      limit: number,
    ): Promise<(WebhookDelivery & { url: string; secret_sealed: string })[]> {
      const { rows } = await sql<WebhookDelivery & { url: string; secret_sealed: string }>`
        update webhook_deliveries d set leased_until = ${leaseUntil}
        from webhook_endpoints e
        where e.id = d.endpoint_id and d.id in (
          select d2.id from webhook_deliveries d2
          join webhook_endpoints e2 on e2.id = d2.endpoint_id and e2.enabled
          where d2.status = 'pending' and d2.next_attempt_at <= ${now}
            and (d2.leased_until is null or d2.leased_until <= ${now})
          order by d2.next_attempt_at, d2.seq
          limit ${limit}
          for update of d2 skip locked
        )
        returning d.*, e.url, e.secret_sealed`.execute(db);
      return rows;
    },

    insertAttempt(row: Insertable<WebhookAttemptsTable>) {
      return db.insertInto('webhook_attempts').values(row).execute();
    },

    updateDelivery(id: string, patch: Updateable<WebhookDelivery>) {
      return db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).execute();
    },

    /** Counts a failure; the endpoint's new count. */
    async countFailure(endpointId: string): Promise<number> {
      const row = await db
        .updateTable('webhook_endpoints')
        .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
        .where('id', '=', endpointId)
        .returning('consecutive_failures')
        .executeTakeFirst();
      return row?.consecutive_failures ?? 0;
    },

    async resetFailures(endpointId: string) {
      await db
        .updateTable('webhook_endpoints')
        .set({ consecutive_failures: 0 })
        .where('id', '=', endpointId)
        .where('consecutive_failures', '>', 0)
        .execute();
    },

    /** Disables it unless it is already; true when this call did. */
    async disableEndpoint(endpointId: string, reason: string, at: Date): Promise<boolean> {
      const result = await db
        .updateTable('webhook_endpoints')
        .set({ enabled: false, disabled_reason: reason, updated_at: at })
        .where('id', '=', endpointId)
        .where('enabled', '=', true)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Newest first, with their attempts. */
    async listDeliveries(endpointId: string, limit: number) {
      const deliveries = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .orderBy('seq', 'desc')
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
      const attempts = deliveries.length
        ? await db
            .selectFrom('webhook_attempts')
            .selectAll()
            .where(
              'delivery_id',
              'in',
              deliveries.map((delivery) => delivery.id),
            )
            .orderBy('id')
            .execute()
        : [];
      return deliveries.map((delivery) => ({
        delivery,
        attempts: attempts.filter((attempt) => attempt.delivery_id === delivery.id),
      }));
    },

    findDelivery(endpointId: string, deliveryId: string) {
      return db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .where('id', '=', deliveryId)
        .executeTakeFirst();
    },

    async deleteFinishedBefore(before: Date): Promise<void> {
      await db
        .deleteFrom('webhook_deliveries')
        .where('status', '<>', 'pending')
        .where('completed_at', '<', before)
        .execute();
    },
  };
}

export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
