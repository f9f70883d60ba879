import type { Db } from '../db/database.ts';
import type { EventDraft } from '../events/event-catalog.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import type { CursorKey } from '../shared/cursor.ts';
import { currentRequestId } from '../shared/request-scope.ts';
import { auditEvent } from './audit-events.ts';
import { auditErrors } from './audit.errors.ts';
import { type AuditFilter, createAuditRepository } from './audit.repository.ts';

/** Everything a person or an operator may need to reconstruct about an account's security. */
export const AUDIT_EVENT_NAMES = [
  'sign_in',
  'sign_in_failed',
  'second_factor',
  'second_factor_failed',
  'lockout',
  'factor_added',
  'factor_renamed',
  'factor_removed',
  'backup_codes_generated',
  'backup_code_used',
  'remembered_browsers_forgotten',
  'session_revoked',
  'sign_out',
  'consent_granted',
  'grant_revoked',
  'refresh_token_reused',
  // A used authorization or device code presented again: oidc-provider revokes its grant (RFC 6749 4.1.2).
  'code_reused',
  'email_changed',
  'phone_changed',
  'profile_updated',
  'identity_linked',
  'identity_unlinked',
  'provider_token_fetched',
  'environment_created',
  'environment_started',
  'environment_stopped',
  'environment_renamed',
  'environment_deleted',
  'environment_state_changed',
  'terminal_session_started',
  'terminal_session_ended',
  'builder_changed',
  'client_registered',
  'client_secret_rotated',
  'client_removed',
  'sign_in_refused',
  'account_suspended',
  'account_reactivated',
  'account_exported',
  'account_deleted',
  // The platform console's own actions, recorded with the acting platform owner as the account.
  'organization_approved',
  'organization_rejected',
  'organization_suspended',
  'signing_keys_rotated',
  'signing_key_retired',
] as const;
export type AuditEventName = (typeof AUDIT_EVENT_NAMES)[number];

export type AuditRecord = {
  event: AuditEventName;
  outcome: 'success' | 'failure';
  origin: RequestOrigin;
  accountId?: string | undefined;
  clientId?: string | undefined;
  /** The organization the event concerns, if any: what the platform owner filters by. */
  organizationId?: string | undefined;
  detail?: Record<string, unknown> | undefined;
};

export type AuditDeps = {
  /** Publishes the events of the records that have one (audit-events.ts), in the record's transaction. */
  events: EventRecorder;
  /** Who may read the whole trail (accounts' isPlatformOwner). */
  isPlatformOwner(accountId: string): Promise<boolean>;
  /** Told of every entry as it is recorded (the metrics count sign-ins and lockouts here). */
  onRecord?: ((entry: AuditRecord) => void) | undefined;
};

// The ids audit_events.id (bigserial) takes; anything else in a cursor is not one we issued.
const ROW_ID = /^\d{1,18}$/;

/** The trail, and the published events of the records that have one, written together. */
export function createAuditService(db: Db, deps: AuditDeps) {
  const read = createAuditRepository(db);
  const insert = (executor: Db, entry: AuditRecord) =>
    createAuditRepository(executor).insert({
      event: entry.event,
      outcome: entry.outcome,
      account_id: entry.accountId ?? null,
      client_id: entry.clientId ?? null,
      organization_id: entry.organizationId ?? null,
      ip: entry.origin.ip,
      user_agent: entry.origin.userAgent?.slice(0, 512) ?? null,
      // Work that is given no origin's id still runs for a request, or a reconciler pass, most of the time.
      request_id: entry.origin.requestId ?? currentRequestId(),
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    });
  /** The row and its published event, if it has one, through `executor`. */
  const write = async (executor: Db, entry: AuditRecord, event: EventDraft | undefined) => {
    await insert(executor, entry);
    if (event) await deps.events.record(executor, event);
  };
  return {
    async record(entry: AuditRecord): Promise<void> {
      deps.onRecord?.(entry);
      const event = auditEvent(entry);
      if (!event) return insert(db, entry);
      await db.transaction().execute((trx) => write(trx, entry, event));
    },

    /**
     * Records in a transaction the caller commits (a new account's, which its sign-in row joins):
     * the row stands or falls with that work, and costs no commit of its own.
     */
    async recordIn(transaction: Db, entry: AuditRecord): Promise<void> {
      deps.onRecord?.(entry);
      await write(transaction, entry, auditEvent(entry));
    },

    recentFor: (accountId: string, limit = 20) => read.findRecentForAccount(accountId, limit),

    /** The whole trail, newest first, for the platform owner only. */
    async listForPlatform(
      actorId: string,
      filter: AuditFilter,
      page: { cursor: CursorKey | undefined; limit: number },
    ) {
      if (!(await deps.isPlatformOwner(actorId))) throw auditErrors.platformOwnerRequired();
      if (page.cursor && !ROW_ID.test(page.cursor.id)) throw auditErrors.invalidCursor();
      return read.list(filter, page.cursor, page.limit);
    },

    /** Every event of the account, oldest first (the person's data export). */
    allFor: (accountId: string) => read.findAllForAccount(accountId),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
