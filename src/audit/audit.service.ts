import type { Db } from '../db/database.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { RequestOrigin } from '../shared/request-origin.ts';
import { auditEvent } from './audit-events.ts';
import { createAuditRepository } from './audit.repository.ts';

/** Everything a person or an operator may need to reconstruct about an account's security. */
export type AuditEventName =
  | 'sign_in'
  | 'sign_in_failed'
  | 'second_factor'
  | 'second_factor_failed'
  | 'lockout'
  | 'factor_added'
  | 'factor_renamed'
  | 'factor_removed'
  | 'backup_codes_generated'
  | 'backup_code_used'
  | 'session_revoked'
  | 'sign_out'
  | 'consent_granted'
  | 'grant_revoked'
  | 'refresh_token_reused'
  | 'email_changed'
  | 'phone_changed'
  | 'profile_updated'
  | 'identity_linked'
  | 'identity_unlinked'
  | 'environment_created'
  | 'environment_started'
  | 'environment_stopped'
  | 'environment_renamed'
  | 'environment_deleted'
  | 'environment_state_changed'
  | 'terminal_session_started'
  | 'terminal_session_ended';

export type AuditRecord = {
  event: AuditEventName;
  outcome: 'success' | 'failure';
  origin: RequestOrigin;
  accountId?: string | undefined;
  clientId?: string | undefined;
  detail?: Record<string, unknown> | undefined;
};

/** The trail, and the published events of the records that have one, written together (audit-events.ts). */
export function createAuditService(db: Db, events: EventRecorder) {
  const read = createAuditRepository(db);
  const insert = (executor: Db, entry: AuditRecord) =>
    createAuditRepository(executor).insert({
      event: entry.event,
      outcome: entry.outcome,
      account_id: entry.accountId ?? null,
      client_id: entry.clientId ?? null,
      ip: entry.origin.ip,
      user_agent: entry.origin.userAgent?.slice(0, 512) ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    });
  return {
    async record(entry: AuditRecord): Promise<void> {
      const event = auditEvent(entry);
      if (!event) return insert(db, entry);
      await db.transaction().execute(async (trx) => {
        await insert(trx, entry);
        await events.record(trx, event);
      });
    },

    recentFor: (accountId: string, limit = 20) => read.findRecentForAccount(accountId, limit),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
