import { z } from 'zod';
import { deepFrozen } from '../shared/deep-frozen.ts';

/**
 * Every event FairyID publishes, with the schema of its `data`. The envelope (id, type, time, actor,
 * subject, organization, request id) is the same for all. A type's `version` changes only when its
 * data changes incompatibly; fields may be added within a version, so consumers ignore what they do
 * not know. README's event catalog is this table.
 */
export const CATALOG_VERSION = '1';

const id = z.string().min(1);
const method = z.string().nullable().describe('How: email, sms, passkey, totp, federated, …');
const transaction = z.object({
  transaction_id: id,
  kind: z.string().describe('The ledger transaction kind (charge, refund, purchase, signup_grant, …)'),
  amount: z.number().int().positive().describe('Whole DUST'),
  account_id: z.string().nullable(),
  client_id: z.string().nullable(),
  description: z.string().nullable(),
});
const environment = z.object({ environment_id: id, name: z.string() });

/** Why a grant was revoked: `grant.revoked`'s `reason`. */
export const GRANT_REVOCATION_REASONS = [
  'disconnected',
  'signed_out',
  'token_revoked',
  'refresh_token_reused',
  'authorization_code_reused',
  'device_code_reused',
  'account_suspended',
  'account_deleted',
  'client_deleted',
] as const;
export type GrantRevocationReason = (typeof GRANT_REVOCATION_REASONS)[number];

const data = {
  'account.created': z.object({ fairyname: z.string(), method }),
  'account.updated': z.object({ fields: z.array(z.enum(['profile', 'email', 'phone_number'])) }),
  'account.signed_in': z.object({ method, client_id: z.string().nullable(), created: z.boolean() }),
  'account.sign_in_failed': z.object({ method, reason: z.string().nullable(), client_id: z.string().nullable() }),
  'account.locked': z.object({ method, until: z.string().nullable().describe('ISO 8601') }),
  'account.factor_added': z.object({ factor: z.string() }),
  'account.factor_removed': z.object({ factor: z.string() }),
  'session.revoked': z.object({ session_id: z.string().nullable() }),
  'grant.revoked': z.object({
    client_id: z.string().nullable(),
    grant_ids: z.array(z.string()),
    // Added within version 1: events published before it have no reason.
    reason: z
      .enum(GRANT_REVOCATION_REASONS)
      .optional()
      .describe(
        'disconnected: the person, on their account page; signed_out: a sign-out ended the session the grant ' +
          'was given in; token_revoked: the app revoked its refresh token (RFC 7009); *_reused: a used token or ' +
          'code was presented again; account_suspended, account_deleted, client_deleted',
      ),
  }),
  'organization.created': z.object({ name: z.string(), slug: z.string(), status: z.string() }),
  'organization.approved': z.object({ from: z.string(), reason: z.string().nullable() }),
  'organization.suspended': z.object({ from: z.string(), reason: z.string().nullable() }),
  'organization.member_added': z.object({
    account_id: id,
    role: z.string(),
    via: z.enum(['creation', 'invitation']),
  }),
  'organization.member_role_changed': z.object({ account_id: id, from: z.string(), to: z.string() }),
  'organization.member_removed': z.object({ account_id: id, role: z.string(), left: z.boolean() }),
  'invitation.sent': z.object({ invitation_id: id, email: z.string(), role: z.string(), resent: z.boolean() }),
  'invitation.accepted': z.object({ invitation_id: id, account_id: id, role: z.string() }),
  'dust.credited': transaction,
  'dust.charged': transaction,
  'dust.refunded': transaction.extend({ reverses_id: z.string().nullable() }),
  'dust.transferred': transaction.extend({ direction: z.enum(['to_organization', 'to_person']) }),
  'client.created': z.object({ client_id: id, name: z.string() }),
  'client.secret_rotated': z.object({ client_id: id }),
  'environment.created': environment,
  'environment.started': environment,
  'environment.stopped': environment.extend({
    reason: z
      .enum(['requested', 'insufficient_dust', 'idle', 'account_suspended'])
      .describe('insufficient_dust: the wallet ran dry; account_suspended: the platform owner suspended its creator'),
  }),
  'environment.deleted': environment,
} as const;

export type EventType = keyof typeof data;
export type EventData<T extends EventType> = z.input<(typeof data)[T]>;
export const EVENT_TYPES = Object.keys(data) as EventType[];
export const EVENT_VERSIONS: Record<EventType, number> = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, 1]),
) as Record<EventType, number>;

export const isEventType = (value: string): value is EventType => value in data;

/** Who caused it: a person (through an app when `client_id` is set), an app on its own, or FairyID itself. */
export type Actor =
  | { type: 'account'; id: string; client_id?: string | null }
  | { type: 'client'; id: string }
  | { type: 'system' };
const actorSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('account'), id, client_id: z.string().nullable().optional() }),
  z.object({ type: z.literal('client'), id }),
  z.object({ type: z.literal('system') }),
]);

export type Subject = { type: string; id: string };

/** Who revoked a grant and why: what its `grant.revoked` event says besides the grant. */
export type GrantRevocationCause = { actor: Actor; reason?: GrantRevocationReason | undefined };

/** What services write: the dispatcher adds nothing, so this plus the envelope is the whole event. */
export type EventDraft = {
  [T in EventType]: {
    type: T;
    actor: Actor;
    subject: Subject;
    organizationId?: string | null | undefined;
    data: EventData<T>;
  };
}[EventType];

function envelope<T extends EventType>(type: T) {
  return z.object({
    id: z.uuid().describe('Unique; the same on every delivery of this event (webhook-id, Nats-Msg-Id)'),
    type: z.literal(type),
    version: z.literal(EVENT_VERSIONS[type]),
    time: z.iso.datetime().describe('When it happened'),
    actor: actorSchema,
    subject: z.object({ type: z.string(), id }).describe('What it is about; events of one subject are in order'),
    organization_id: z.string().nullable(),
    request_id: z.string().nullable().describe('The X-Request-Id of the request that caused it'),
    data: data[type],
  });
}

/** Checks a draft's data against its schema: an event that does not match its own schema is a bug. */
export function parseEventData(draft: EventDraft): Record<string, unknown> {
  return data[draft.type].parse(draft.data) as Record<string, unknown>;
}

type EventCatalog = {
  version: string;
  events: { type: EventType; version: number; schema: Record<string, unknown> }[];
};
let catalog: EventCatalog | undefined;

/**
 * The catalog as JSON Schema (2020-12), one schema per event type. It depends on nothing but this
 * module, so it is built once per process and shared, frozen, by every server in it: zod's
 * conversion of some sixty envelopes took about 12 ms of CPU, twice per server (the catalog's route
 * and the OpenAPI document), which the test suite paid for each of its hundreds of servers.
 */
export function eventSchemas(): EventCatalog {
  catalog ??= deepFrozen({
    version: CATALOG_VERSION,
    events: EVENT_TYPES.map((type) => {
      const { $schema: _, ...schema } = z.toJSONSchema(envelope(type), { io: 'output' }) as Record<string, unknown>;
      return { type, version: EVENT_VERSIONS[type], schema };
    }),
  });
  return catalog;
}
