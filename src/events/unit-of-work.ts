import type { Db } from '../db/database.ts';
import type { EventDraft } from './event-catalog.ts';
import type { EventRecorder } from './event-recorder.ts';

/** Writes an event into the outbox in the transaction of the change it describes. */
export type Emit = (draft: EventDraft) => Promise<void>;

/**
 * Runs `work` in one database transaction, with the domain's SQL and the event recorder bound to it.
 * The transaction itself is handed on for another domain's service to join (never for SQL of its own).
 */
export type UnitOfWork<Repository> = <T>(
  work: (repository: Repository, emit: Emit, transaction: Db) => Promise<T>,
) => Promise<T>;

/**
 * The unit of work of a domain whose changes publish events: the change and its event commit
 * together or not at all. The service that owns the change opens it (CONVENTIONS.md).
 */
export function unitOfWork<Repository>(
  db: Db,
  events: EventRecorder,
  repositoryOf: (executor: Db) => Repository,
): UnitOfWork<Repository> {
  return (work) =>
    db
      .transaction()
      .execute((trx) => work(repositoryOf(trx), async (draft) => void (await events.record(trx, draft)), trx));
}
