import type { Actor, EventDraft } from '../events/event-catalog.ts';
import type { AuditRecord } from './audit.service.ts';

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const account = (id: string) => ({ type: 'account', id });

/**
 * The published event of an audit record, for the few events whose change is no row of ours: the
 * audit row is their only durable record, so the event commits with it. Every other event commits
 * with its change, in the transaction of the service that makes it (factors, profile and addresses,
 * sessions, environments, clients, organizations, the ledger):
 *
 * - a sign-in is a provider session in the key-value store (the account_sessions row that indexes
 *   it is written later, at the authorization), and a failed one changes nothing;
 * - a lockout is a counter in the key-value store (verification/);
 * - a grant is revoked through oidc-provider's models (oidc/grant-revoker.ts), which each write on
 *   their own, partly to the key-value store: there is no transaction of ours to join. This is the
 *   account page's disconnect; every other revocation publishes on its own
 *   (oidc/grant-revocation-events.ts).
 *
 * Someone who is not signed in yet (a failed sign-in, a lockout) acts through the app they tried.
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
    case 'grant_revoked':
      if (!person || !success) return undefined;
      return {
        type: 'grant.revoked',
        // The person acted on their account page, not through the app they disconnected.
        actor: { ...person, client_id: null },
        subject: account(person.id),
        data: {
          client_id: clientId,
          grant_ids: Array.isArray(detail.grant_ids) ? detail.grant_ids.map(String) : [],
          reason: 'disconnected',
        },
      };
    default:
      return undefined;
  }
}
