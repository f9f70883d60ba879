import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { currentRequestId } from '../shared/request-scope.ts';
import { EVENT_VERSIONS, type EventDraft, parseEventData } from './event-catalog.ts';
import { createOutboxRepository } from './outbox.repository.ts';

/**
 * Writes events into the outbox. Services call it with the transaction of the change the event
 * describes, so the change and its event commit together or not at all; the request id comes from
 * the request the work runs for (shared/request-scope.ts).
 */
export function createEventRecorder(clock: Clock) {
  return {
    /** `db` is the transaction of the change: there is deliberately no way to record outside one. */
    async record(db: Db, draft: EventDraft): Promise<string> {
      const id = randomUUID();
      const time = new Date(clock.now());
      const organizationId = draft.organizationId ?? null;
      const payload = {
        id,
        type: draft.type,
        version: EVENT_VERSIONS[draft.type],
        time: time.toISOString(),
        actor: draft.actor,
        subject: draft.subject,
        organization_id: organizationId,
        request_id: currentRequestId(),
        data: parseEventData(draft),
      };
      await createOutboxRepository(db).insert({
        event_id: id,
        type: draft.type,
        subject: `${draft.subject.type}:${draft.subject.id}`,
        organization_id: organizationId,
        payload: JSON.stringify(payload),
        created_at: time,
      });
      return id;
    },
  };
}

export type EventRecorder = ReturnType<typeof createEventRecorder>;
