import type { RequestOrigin } from '../shared/request-origin.ts';
import type { AuditRepository } from './audit.repository.ts';

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
  | 'remembered_browsers_forgotten'
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

export function createAuditService(repository: AuditRepository) {
  return {
    record(entry: AuditRecord): Promise<void> {
      return repository.insert({
        event: entry.event,
        outcome: entry.outcome,
        account_id: entry.accountId ?? null,
        client_id: entry.clientId ?? null,
        ip: entry.origin.ip,
        user_agent: entry.origin.userAgent?.slice(0, 512) ?? null,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
      });
    },

    recentFor: (accountId: string, limit = 20) => repository.findRecentForAccount(accountId, limit),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
