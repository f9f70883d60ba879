import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { pageOf, pageQuery, pageRequest, timestamp } from '../http/api-schemas.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import { toPage } from '../shared/cursor.ts';
import { AUDIT_EVENT_NAMES, type AuditService } from './audit.service.ts';
import type { AuditEvent } from './audit.table.ts';

const auditEventSchema = z.object({
  id: z.string(),
  type: z.string().describe('What happened: sign_in, lockout, factor_added, ...'),
  outcome: z.enum(['success', 'failure']),
  account_id: z.string().nullable(),
  client_id: z.string().nullable(),
  organization_id: z.string().nullable(),
  request_id: z.string().nullable().describe('The X-Request-Id of the request that caused it; null outside requests'),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  created_at: timestamp,
});

// An instant Postgres's timestamptz holds as JavaScript writes it: years 1 to 9999.
const instant = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine((date) => date.getUTCFullYear() >= 1 && date.getUTCFullYear() <= 9999, { message: 'out of range' });

const present = (event: AuditEvent) => ({
  id: event.id,
  type: event.event,
  outcome: event.outcome,
  account_id: event.account_id,
  client_id: event.client_id,
  organization_id: event.organization_id,
  request_id: event.request_id,
  ip: event.ip,
  user_agent: event.user_agent,
  detail: event.detail,
  created_at: event.created_at.toISOString(),
});

/** The platform owner's view of the whole security trail. */
export function auditRoutes(audit: AuditService): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/platform/audit',
      summary: 'Page through the audit trail, newest first, by account, organization, type, outcome, request or time',
      tag: 'Platform',
      scopes: ['platform:manage'],
      query: pageQuery.extend({
        account_id: z.string().min(1).max(64).optional(),
        organization_id: z.uuid().optional(),
        type: z.enum(AUDIT_EVENT_NAMES).optional(),
        outcome: z.enum(['success', 'failure']).optional(),
        request_id: z
          .string()
          .regex(/^[\w.-]{8,128}$/)
          .optional()
          .describe('An X-Request-Id, as answered and logged'),
        from: instant.optional().describe('At or after this instant (RFC 3339)'),
        to: instant.optional().describe('Before this instant (RFC 3339)'),
      }),
      response: pageOf(auditEventSchema),
      async handler(ctx, { query }) {
        const page = pageRequest(query);
        const rows = await audit.listForPlatform(
          person(ctx.state),
          {
            accountId: query.account_id,
            organizationId: query.organization_id,
            event: query.type,
            outcome: query.outcome,
            requestId: query.request_id,
            from: query.from,
            to: query.to,
          },
          page,
        );
        return toPage(rows, page.limit, present);
      },
    }),
  ];
}
