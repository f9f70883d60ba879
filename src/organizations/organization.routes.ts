import { z } from 'zod';
import { defineRoute, type ApiRoute } from '../http/api-route.ts';
import { pageOf, pageQuery, pageRequest, timestamp } from '../http/api-schemas.ts';
import { toPage } from '../shared/cursor.ts';
import { requirePerson as person } from '../oidc/caller.ts';
import type { Organization, OrganizationEvent } from './organization.table.ts';
import type { OrganizationClientService } from './organization-client.service.ts';
import type { OrganizationService } from './organization.service.ts';
import { ORGANIZATION_STATUSES, ROLES, type Role } from './permissions.ts';

const READ = 'organizations:read';
const WRITE = 'organizations:write';

const organizationSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(ORGANIZATION_STATUSES),
  status_reason: z.string().nullable().describe('Why the platform owner rejected or suspended it'),
  role: z.enum(ROLES).describe('Your role in it'),
  created_at: timestamp,
  updated_at: timestamp,
});
const memberSchema = z.object({
  account_id: z.string(),
  email: z.string().nullable(),
  fairyname: z.string(),
  name: z.string().nullable(),
  role: z.enum(ROLES),
  joined_at: timestamp,
});
const eventSchema = z.object({
  id: z.string(),
  actor_id: z.string().nullable(),
  action: z.string(),
  subject_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  created_at: timestamp,
});
const slug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'use 1-40 lowercase letters, digits and inner hyphens');
const name = z.string().trim().min(1).max(100);
const idParams = z.object({ id: z.uuid() });
const memberParams = z.object({ id: z.uuid(), accountId: z.string().min(1).max(64) });

export const presentOrganization = (organization: Organization, role: Role) => ({
  id: organization.id,
  slug: organization.slug,
  name: organization.name,
  status: organization.status,
  status_reason: organization.status_reason,
  role,
  created_at: organization.created_at.toISOString(),
  updated_at: organization.updated_at.toISOString(),
});

const presentEvent = (event: OrganizationEvent) => ({
  id: event.id,
  actor_id: event.actor_id,
  action: event.action,
  subject_id: event.subject_id,
  details: event.details,
  created_at: event.created_at.toISOString(),
});

/**
 * Organizations, members and their event trail, for the person behind the token. Deleting one goes
 * through its clients' service, which revokes what those clients were issued.
 */
export function organizationRoutes(
  organizations: OrganizationService,
  organizationClients: Pick<OrganizationClientService, 'removeOrganization'>,
): ApiRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/organizations',
      summary: 'Create an organization; you become its owner',
      tag: 'Organizations',
      scopes: [WRITE],
      body: z.object({ name, slug }),
      response: organizationSchema,
      status: 201,
      async handler(ctx, { body }) {
        const { organization, role } = await organizations.create(person(ctx.state), body);
        return presentOrganization(organization, role);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations',
      summary: 'List the organizations you belong to',
      tag: 'Organizations',
      scopes: [READ],
      query: pageQuery,
      response: pageOf(organizationSchema),
      async handler(ctx, { query }) {
        const page = pageRequest(query);
        const rows = await organizations.listMine(person(ctx.state), page);
        return toPage(rows, page.limit, (row) => presentOrganization(row, row.role));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations/:id',
      summary: 'Read an organization you belong to',
      tag: 'Organizations',
      scopes: [READ],
      params: idParams,
      response: organizationSchema,
      async handler(ctx, { params }) {
        const { organization, role } = await organizations.get(person(ctx.state), params.id);
        return presentOrganization(organization, role);
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/organizations/:id',
      summary: 'Rename an organization or change its slug (owner, admin)',
      tag: 'Organizations',
      scopes: [WRITE],
      params: idParams,
      body: z
        .object({ name: name.optional(), slug: slug.optional() })
        .refine((patch) => patch.name || patch.slug, 'send name or slug'),
      response: organizationSchema,
      async handler(ctx, { params, body }) {
        const { organization, role } = await organizations.update(person(ctx.state), params.id, body);
        return presentOrganization(organization, role);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/organizations/:id',
      summary: 'Delete an organization (owner)',
      tag: 'Organizations',
      scopes: [WRITE],
      params: idParams,
      response: z.null(),
      status: 204,
      async handler(ctx, { params }) {
        await organizationClients.removeOrganization(person(ctx.state), params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations/:id/members',
      summary: 'List members and their roles',
      tag: 'Members',
      scopes: [READ],
      params: idParams,
      query: pageQuery,
      response: pageOf(memberSchema),
      async handler(ctx, { params, query }) {
        const page = pageRequest(query);
        const rows = await organizations.listMembers(person(ctx.state), params.id, page);
        return toPage(rows, page.limit, (row) => ({
          account_id: row.id,
          email: row.email,
          fairyname: row.fairyname,
          name: row.name,
          role: row.role,
          joined_at: row.created_at.toISOString(),
        }));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/organizations/:id/members/:accountId',
      summary: "Change a member's role (owner, admin; only owners touch owners)",
      tag: 'Members',
      scopes: [WRITE],
      params: memberParams,
      body: z.object({ role: z.enum(ROLES) }),
      response: z.null(),
      status: 204,
      async handler(ctx, { params, body }) {
        await organizations.changeRole(person(ctx.state), params.id, params.accountId, body.role);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/organizations/:id/members/:accountId',
      summary: 'Remove a member (owner, admin), or leave when it is you',
      tag: 'Members',
      scopes: [WRITE],
      params: memberParams,
      response: z.null(),
      status: 204,
      async handler(ctx, { params }) {
        await organizations.removeMember(person(ctx.state), params.id, params.accountId);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/organizations/:id/events',
      summary: "The organization's event trail (owner, admin)",
      tag: 'Organizations',
      scopes: [READ],
      params: idParams,
      query: pageQuery,
      response: pageOf(eventSchema),
      async handler(ctx, { params, query }) {
        const page = pageRequest(query);
        const rows = await organizations.listEvents(person(ctx.state), params.id, page);
        return toPage(rows, page.limit, presentEvent);
      },
    }),
  ];
}

/** The platform owner's approval queue. */
export function platformRoutes(organizations: OrganizationService): ApiRoute[] {
  const platformOrganization = organizationSchema.omit({ role: true });
  const present = (organization: Organization) => {
    const { role: _, ...rest } = presentOrganization(organization, 'member');
    return rest;
  };
  const statusChange = (action: 'approve' | 'reject' | 'suspend', summary: string, reasonRequired: boolean) =>
    defineRoute({
      method: 'post',
      path: `/api/platform/organizations/:id/${action}`,
      summary,
      tag: 'Platform',
      scopes: ['platform:manage'],
      params: idParams,
      body: z.object({
        reason: reasonRequired ? z.string().trim().min(1).max(500) : z.string().trim().max(500).optional(),
      }),
      response: platformOrganization,
      async handler(ctx, { params, body }) {
        return present(await organizations.setStatus(person(ctx.state), params.id, action, body.reason));
      },
    });
  return [
    defineRoute({
      method: 'get',
      path: '/api/platform/organizations',
      summary: 'List organizations, optionally by status',
      tag: 'Platform',
      scopes: ['platform:manage'],
      query: pageQuery.extend({ status: z.enum(ORGANIZATION_STATUSES).optional() }),
      response: pageOf(platformOrganization),
      async handler(ctx, { query }) {
        const page = pageRequest(query);
        const rows = await organizations.listForPlatform(person(ctx.state), query.status, page);
        return toPage(rows, page.limit, present);
      },
    }),
    statusChange('approve', 'Approve an organization so it may do what costs money', false),
    statusChange('reject', 'Reject a pending organization, with a reason its owners see', true),
    statusChange('suspend', 'Suspend an active organization, with a reason its owners see', true),
  ];
}
