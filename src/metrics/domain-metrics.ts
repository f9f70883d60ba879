import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditRecord } from '../audit/audit.service.ts';
import { TRANSACTION_KINDS } from '../ledger/ledger.table.ts';
import type { SendOutcome } from '../verification/one-time-codes.ts';
import type { MetricsRegistry } from './registry.ts';

// Every label value below is one of a fixed list; anything else is `other` (see registry.ts).
const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
];
// The token endpoint's error codes (RFC 6749 5.2, RFC 8628 3.5, RFC 8707, RFC 9449, RFC 9396).
const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'invalid_authorization_details',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
];
const SIGN_IN_METHODS = ['email', 'sms', 'passkey', 'federated'];
const SECOND_FACTOR_METHODS = ['totp', 'backup_code', 'passkey', 'email', 'sms'];
const OUTCOMES = ['success', 'failure'];
const CHANNELS = ['email', 'sms'];
const CODE_PURPOSES = ['sign_in', 'identifier_change'];

const CODE_SEND_OUTCOMES = [
  'sent',
  'delivery_failed',
  'resend_wait',
  'limited',
  'locked_out',
] as const satisfies readonly SendOutcome[];

/** A passkey signs in as `passkey_swk` or `passkey_hwk` (synced or device-bound); one series for both. */
const methodOf = (detail: Record<string, unknown> | undefined) => {
  const method = String(detail?.method ?? detail?.channel ?? '');
  return method.startsWith('passkey') ? 'passkey' : method;
};

/**
 * The business and security counters, fed by hooks services.ts wires up: the audit trail (sign-ins,
 * second factors, lockouts), oidc-provider's events (tokens), one-time codes, the ledger (DUST).
 */
export function createDomainMetrics(metrics: MetricsRegistry) {
  const tokensIssued = metrics.counter({
    name: 'fairyid_tokens_issued_total',
    help: 'Successful token endpoint responses, by grant type',
    labels: { grant_type: GRANT_TYPES },
  });
  const tokenErrors = metrics.counter({
    name: 'fairyid_token_errors_total',
    help: 'Token endpoint error responses, by grant type and OAuth error code',
    labels: { grant_type: GRANT_TYPES, error: TOKEN_ERRORS },
  });
  const signIns = metrics.counter({
    name: 'fairyid_sign_ins_total',
    help: 'First-factor sign-ins and failed attempts, by method and outcome',
    labels: { method: SIGN_IN_METHODS, outcome: OUTCOMES },
  });
  const secondFactors = metrics.counter({
    name: 'fairyid_second_factors_total',
    help: 'Second factors presented at sign-in, by method and outcome',
    labels: { method: SECOND_FACTOR_METHODS, outcome: OUTCOMES },
  });
  const lockouts = metrics.counter({
    name: 'fairyid_lockouts_total',
    help: 'Lockouts after repeated failures, by the channel of the code that failed (other: app codes)',
    labels: { channel: CHANNELS },
  });
  const codesSent = metrics.counter({
    name: 'fairyid_codes_sent_total',
    help: 'Requests to send a one-time code, by channel, purpose and outcome',
    labels: { channel: CHANNELS, purpose: CODE_PURPOSES, outcome: CODE_SEND_OUTCOMES },
  });
  const dustMoved = metrics.counter({
    name: 'fairyid_dust_moved_total',
    help: 'DUST moved by committed ledger transactions, by transaction kind',
    labels: { kind: TRANSACTION_KINDS },
  });

  const webhookAttempts = metrics.counter({
    name: 'fairyid_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (a failure is retried on the schedule, or ends the delivery)',
    labels: { outcome: OUTCOMES },
  });

  return {
    /** For the audit service: counts what the trail records. */
    audited(entry: Pick<AuditRecord, 'event' | 'outcome' | 'detail'>) {
      switch (entry.event) {
        case 'sign_in':
        case 'sign_in_failed':
          signIns.inc({ method: methodOf(entry.detail), outcome: entry.outcome });
          break;
        case 'second_factor':
        case 'second_factor_failed':
          secondFactors.inc({ method: methodOf(entry.detail), outcome: entry.outcome });
          break;
        case 'lockout':
          lockouts.inc({ channel: String(entry.detail?.channel ?? '') });
          break;
      }
    },

    /** For each provider instance the host builds (a key rotation builds a new one). */
    watchProvider(provider: Provider) {
      provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
        tokensIssued.inc({ grant_type: String(ctx.oidc.params?.grant_type ?? '') });
      });
      provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error?: unknown }) => {
        tokenErrors.inc({ grant_type: String(ctx.oidc?.params?.grant_type ?? ''), error: String(error.error ?? '') });
      });
    },

    codeSent(channel: string, purpose: string, outcome: SendOutcome) {
      codesSent.inc({ channel, purpose, outcome });
    },

    webhookAttempted(success: boolean) {
      webhookAttempts.inc({ outcome: success ? 'success' : 'failure' });
    },

    /** The events not yet dispatched from the outbox, read at each scrape. */
    watchOutbox(backlog: () => Promise<number>) {
      metrics.gauge({
        name: 'fairyid_outbox_backlog',
        help: 'Events written to the outbox and not yet dispatched to webhooks and the broker',
        labels: {},
        async collect(set) {
          set({}, await backlog());
        },
      });
    },

    /** After the ledger's transaction commits. */
    dustMoved(transaction: { kind: string; amount: number }) {
      dustMoved.inc({ kind: transaction.kind }, transaction.amount);
    },
  };
}

export type DomainMetrics = ReturnType<typeof createDomainMetrics>;
