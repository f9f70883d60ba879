import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { pageOf, pageQuery, pageRequest, timestamp } from '../http/api-schemas.ts';
import { negotiateLocale } from '../i18n/locales.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import { toPage } from '../shared/cursor.ts';
import type { InvitationService } from './invitation.service.ts';
import type { Invitation } from './organization.table.ts';
import { ROLES } from './permissions.ts';

const invitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  invited_by: z.string().nullable(),
  created_at: timestamp,
  expires_at: timestamp,
});

const present = (invitation: Invitation) => ({
  id: invitation.id,
  email: invitation.email,
  role: invitation.role,
  invited_by: invitation.invited_by,
  created_at: invitation.created_at.toISOString(),
  expires_at: invitation.expires_at.toISOString(),
});

const idParams = z.object({ id: z.uuid() });
const invitationParams = z.object({ id: z.uuid(), invitationId: z.uuid() });

/** Invitations by email (owner, admin); the invitee answers on a hosted page, not through the API. */
/** The invitation email speaks the language of the request that sends it (Accept-Language), else English. */
const requestLocale = (ctx: { get(field: string): string }) =>
  negotiateLocale({ acceptLanguage: ctx.get('accept-language') });

export function invitationRoutes(invitations: InvitationService): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/organizations/:id/invitations',
      summary: 'Invite someone by email; they get a link valid for 7 days',
      tag: 'Invitations',
      scopes: ['organizations:write'],
      params: idParams,
      body: z.object({
        email: z
          .email()
          .max(254)
          .transform((email) => email.toLowerCase()),
        role: z.enum(ROLES).default('member'),
      }),
      response: invitationSchema,
      status: 201,
      async handler(ctx, { params, body }) {
        return present(await invitations.create(person(ctx.state), params.id, body, requestLocale(ctx)));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations/:id/invitations',
      summary: 'List open invitations',
      tag: 'Invitations',
      scopes: ['organizations:read'],
      params: idParams,
      query: pageQuery,
      response: pageOf(invitationSchema),
      async handler(ctx, { params, query }) {
        const page = pageRequest(query);
        return toPage(await invitations.list(person(ctx.state), params.id, page), page.limit, present);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/organizations/:id/invitations/:invitationId/resend',
      summary: 'Send a fresh link (the old one stops working) valid for another 7 days',
      tag: 'Invitations',
      scopes: ['organizations:write'],
      params: invitationParams,
      response: invitationSchema,
      async handler(ctx, { params }) {
        return present(await invitations.resend(person(ctx.state), params.id, params.invitationId, requestLocale(ctx)));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/organizations/:id/invitations/:invitationId',
      summary: 'Revoke an open invitation',
      tag: 'Invitations',
      scopes: ['organizations:write'],
      params: invitationParams,
      response: z.null(),
      status: 204,
      async handler(ctx, { params }) {
        await invitations.revoke(person(ctx.state), params.id, params.invitationId);
      },
    }),
  ];
}
