import type { Actor, EventDraft } from '../events/event-catalog.ts';
import type { AuditRecord } from './audit.service.ts';

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const account = (id: string) => ({ type: 'account', id });

/**
 * The published event of an audit record, if it has one. Sign-ins, lockouts and factor changes are
 * recorded only here, so the audit row and its event are written in one transaction. Someone who
 * is not signed in yet (a failed sign-in, a lockout) acts through the app they tried.
 */
export function auditEvent(entry: AuditRecord): EventDraft | undefined {
  const detail = entry.detail ?? {};
  const clientId = entry.clientId ?? null;
  const person: Actor | undefined = entry.accountId
    ? { type: 'account', id: entry.accountId, client_id: clientId }
    : undefined;
  const stranger: Actor = clientId ? { type: 'client', id: clientId } : { type: 'system' };
  const method = text(detail.method) ?? text(detail.channel) ?? text(detail.factor);
  const success = entry.outcome === 'success';
  const environment = {
    environment_id: text(detail.environment_id) ?? '',
    name: text(detail.name) ?? '',
  };
  const aboutEnvironment = {
    subject: { type: 'environment', id: environment.environment_id },
    organizationId: text(detail.organization_id),
  };

  switch (entry.event) {
    case 'sign_in':
      if (!person || !success) return undefined;
      return {
        type: 'account.signed_in',
        actor: person,
        subject: account(person.id),
        data: { method, client_id: clientId, created: detail.created === true },
      };
    case 'sign_in_failed': {
      const subject = entry.accountId
        ? account(entry.accountId)
        : clientId
          ? { type: 'client', id: clientId }
          : undefined;
      if (!subject) return undefined;
      return {
        type: 'account.sign_in_failed',
        actor: stranger,
        subject,
        data: { method, reason: text(detail.reason), client_id: clientId },
      };
    }
    case 'lockout':
      // A lockout of an address that has no account locks no account.
      if (!entry.accountId) return undefined;
      return {
        type: 'account.locked',
        actor: stranger,
        subject: account(entry.accountId),
        data: { method, until: text(detail.until) },
      };
    case 'factor_added':
    case 'factor_removed':
      if (!person || !success) return undefined;
      return {
        type: entry.event === 'factor_added' ? 'account.factor_added' : 'account.factor_removed',
        actor: person,
        subject: account(person.id),
        data: { factor: text(detail.factor) ?? 'unknown' },
      };
    case 'email_changed':
    case 'phone_changed':
    case 'profile_updated':
      if (!person || !success) return undefined;
      return {
        type: 'account.updated',
        actor: person,
        subject: account(person.id),
        data: {
          fields: [
            entry.event === 'email_changed' ? 'email' : entry.event === 'phone_changed' ? 'phone_number' : 'profile',
          ],
        },
      };
    case 'session_revoked':
      if (!person || !success) return undefined;
      return {
        type: 'session.revoked',
        actor: person,
        subject: account(person.id),
        data: { session_id: text(detail.session_uid) },
      };
    case 'grant_revoked':
      if (!person || !success) return undefined;
      return {
        type: 'grant.revoked',
        actor: person,
        subject: account(person.id),
        data: {
          client_id: clientId,
          grant_ids: Array.isArray(detail.grant_ids) ? detail.grant_ids.map(String) : [],
        },
      };
    case 'environment_created':
    case 'environment_started':
    case 'environment_deleted': {
      if (!environment.environment_id) return undefined;
      const type =
        entry.event === 'environment_created'
          ? 'environment.created'
          : entry.event === 'environment_started'
            ? 'environment.started'
            : 'environment.deleted';
      return { type, actor: person ?? stranger, ...aboutEnvironment, data: environment };
    }
    case 'environment_stopped':
      if (!environment.environment_id) return undefined;
      return {
        type: 'environment.stopped',
        actor: person ?? stranger,
        ...aboutEnvironment,
        data: { ...environment, reason: 'requested' },
      };
    case 'environment_state_changed': {
      // FairyID's own stops: the wallet ran dry, or the environment sat idle.
      const reason = detail.stop_reason === 'insufficient_funds' ? 'insufficient_dust' : text(detail.stop_reason);
      if (
        !environment.environment_id ||
        detail.to !== 'stopping' ||
        (reason !== 'insufficient_dust' && reason !== 'idle')
      )
        return undefined;
      return {
        type: 'environment.stopped',
        actor: { type: 'system' },
        ...aboutEnvironment,
        data: { ...environment, reason },
      };
    }
    default:
      return undefined;
  }
}
