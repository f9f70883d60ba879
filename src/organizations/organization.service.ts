import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { EventDraft } from '../events/event-catalog.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { CursorKey } from '../shared/cursor.ts';
import { organizationErrors as errors } from './organization.errors.ts';
import { createOrganizationRepository, type OrganizationRepository } from './organization.repository.ts';
import type { Organization } from './organization.table.ts';
import { allows, type OrganizationStatus, type Permission, type Role } from './permissions.ts';
import { required } from '../shared/required.ts';

type Emit = (draft: EventDraft) => Promise<void>;
const account = (id: string) => ({ type: 'account' as const, id });

export type ApprovalMode = 'manual' | 'auto';
export type PageRequest = { cursor: CursorKey | undefined; limit: number };
export type StatusAction = 'approve' | 'reject' | 'suspend';

const TRANSITIONS: Record<StatusAction, { from: OrganizationStatus[]; to: OrganizationStatus; past: string }> = {
  approve: { from: ['pending', 'rejected', 'suspended'], to: 'active', past: 'approved' },
  reject: { from: ['pending'], to: 'rejected', past: 'rejected' },
  suspend: { from: ['active'], to: 'suspended', past: 'suspended' },
};

/**
 * Organizations, their members and roles, and the platform owner's approval. Every change is one
 * transaction that also appends to the organization's event trail.
 */
export function createOrganizationService(deps: {
  db: Db;
  /** Each change's event (organization.*, member changes) commits with it. */
  events: EventRecorder;
  approval: ApprovalMode;
  isPlatformOwner(accountId: string): Promise<boolean>;
}) {
  const { db } = deps;
  const read = createOrganizationRepository(db);
  const inTransaction = <T>(work: (repo: OrganizationRepository, emit: Emit) => Promise<T>) =>
    db
      .transaction()
      .execute((trx) =>
        work(createOrganizationRepository(trx), async (draft) => void (await deps.events.record(trx, draft))),
      );

  /** The caller's membership, or 404 for non-members so organizations do not leak their existence. */
  async function membership(
    repo: OrganizationRepository,
    organizationId: string,
    accountId: string,
    permission: Permission,
    what: string,
  ) {
    const found = await repo.findMembership(organizationId, accountId);
    if (!found) throw errors.notFound();
    if (!allows(found.role, permission)) throw errors.forbidden(what);
    return found;
  }

  async function requirePlatformOwner(accountId: string) {
    if (!(await deps.isPlatformOwner(accountId))) throw errors.platformOwnerRequired();
  }

  return {
    async create(actorId: string, input: { name: string; slug: string }) {
      return inTransaction(async (repo, emit) => {
        const status: OrganizationStatus = deps.approval === 'auto' ? 'active' : 'pending';
        const organization = await repo.insert({ id: randomUUID(), ...input, status, created_by: actorId });
        if (!organization) throw errors.slugTaken();
        await repo.insertMembership({ organization_id: organization.id, account_id: actorId, role: 'owner' });
        await repo.insertEvent({
          organization_id: organization.id,
          actor_id: actorId,
          action: 'organization.created',
          details: { ...input, status },
        });
        const about = { actor: account(actorId), organizationId: organization.id };
        await emit({
          ...about,
          type: 'organization.created',
          subject: { type: 'organization', id: organization.id },
          data: { ...input, status },
        });
        await emit({
          ...about,
          type: 'organization.member_added',
          subject: account(actorId),
          data: { account_id: actorId, role: 'owner', via: 'creation' },
        });
        return { organization, role: 'owner' as Role };
      });
    },

    listMine: (actorId: string, page: PageRequest) => read.listForAccount(actorId, page.cursor, page.limit),

    membershipsOf: (accountId: string) => read.membershipsOf(accountId),

    async get(actorId: string, organizationId: string) {
      const { role } = await membership(read, organizationId, actorId, 'organization:read', 'read it');
      const organization = await read.findById(organizationId);
      if (!organization) throw errors.notFound();
      return { organization, role };
    },

    async update(actorId: string, organizationId: string, patch: { name?: string; slug?: string }) {
      return inTransaction(async (repo) => {
        const { role } = await membership(repo, organizationId, actorId, 'organization:update', 'change its settings');
        if (patch.slug && (await repo.slugTaken(patch.slug, organizationId))) throw errors.slugTaken();
        const organization = await repo.update(organizationId, patch).catch((error: unknown) => {
          throw isUniqueViolation(error) ? errors.slugTaken() : error;
        });
        if (!organization) throw errors.notFound();
        await repo.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: 'organization.updated',
          details: patch,
        });
        return { organization, role };
      });
    },

    async remove(actorId: string, organizationId: string) {
      await inTransaction(async (repo) => {
        await membership(repo, organizationId, actorId, 'organization:delete', 'delete it');
        await repo.insertEvent({ organization_id: organizationId, actor_id: actorId, action: 'organization.deleted' });
        await repo.delete(organizationId);
      });
    },

    async listMembers(actorId: string, organizationId: string, page: PageRequest) {
      await membership(read, organizationId, actorId, 'members:read', 'see its members');
      return read.listMembers(organizationId, page.cursor, page.limit);
    },

    async changeRole(actorId: string, organizationId: string, memberId: string, role: Role) {
      await inTransaction(async (repo, emit) => {
        const actor = await membership(repo, organizationId, actorId, 'members:manage', 'change roles');
        const owners = await repo.lockOwners(organizationId);
        const target = await repo.findMembership(organizationId, memberId);
        if (!target) throw errors.memberNotFound();
        if ((target.role === 'owner' || role === 'owner') && actor.role !== 'owner') throw errors.ownerRequired();
        if (target.role === 'owner' && role !== 'owner' && owners.length === 1) throw errors.lastOwner();
        if (target.role === role) return;
        await repo.updateRole(organizationId, memberId, role);
        await repo.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: 'member.role_changed',
          subject_id: memberId,
          details: { from: target.role, to: role },
        });
        await emit({
          type: 'organization.member_role_changed',
          actor: account(actorId),
          subject: account(memberId),
          organizationId,
          data: { account_id: memberId, from: target.role, to: role },
        });
      });
    },

    /** Removes a member; a member removing themselves is leaving, which every role may do. */
    async removeMember(actorId: string, organizationId: string, memberId: string) {
      await inTransaction(async (repo, emit) => {
        const leaving = actorId === memberId;
        const actor = leaving
          ? await membership(repo, organizationId, actorId, 'organization:read', 'leave')
          : await membership(repo, organizationId, actorId, 'members:manage', 'remove members');
        const owners = await repo.lockOwners(organizationId);
        const target = leaving ? actor : await repo.findMembership(organizationId, memberId);
        if (!target) throw errors.memberNotFound();
        if (target.role === 'owner' && !leaving && actor.role !== 'owner') throw errors.ownerRequired();
        if (target.role === 'owner' && owners.length === 1) throw errors.lastOwner();
        await repo.deleteMembership(organizationId, memberId);
        await repo.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: leaving ? 'member.left' : 'member.removed',
          subject_id: memberId,
          details: { role: target.role },
        });
        await emit({
          type: 'organization.member_removed',
          actor: account(actorId),
          subject: account(memberId),
          organizationId,
          data: { account_id: memberId, role: target.role, left: leaving },
        });
      });
    },

    async listEvents(actorId: string, organizationId: string, page: PageRequest) {
      await membership(read, organizationId, actorId, 'events:read', 'see its event trail');
      return read.listEvents(organizationId, page.cursor, page.limit);
    },

    async listForPlatform(actorId: string, status: OrganizationStatus | undefined, page: PageRequest) {
      await requirePlatformOwner(actorId);
      return read.listByStatus(status, page.cursor, page.limit);
    },

    async setStatus(actorId: string, organizationId: string, action: StatusAction, reason: string | undefined) {
      await requirePlatformOwner(actorId);
      return inTransaction(async (repo, emit) => {
        const organization = await repo.lock(organizationId);
        if (!organization) throw errors.notFound();
        const transition = TRANSITIONS[action];
        if (!transition.from.includes(organization.status))
          throw errors.invalidTransition(organization.status, transition.past);
        const updated = await repo.update(organizationId, { status: transition.to, status_reason: reason ?? null });
        await repo.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: `organization.${transition.past}`,
          details: { from: organization.status, to: transition.to, reason: reason ?? null },
        });
        // Rejections are not in the catalog: a rejected organization never served anyone.
        if (action !== 'reject') {
          await emit({
            type: action === 'approve' ? 'organization.approved' : 'organization.suspended',
            actor: account(actorId),
            subject: { type: 'organization', id: organizationId },
            organizationId,
            data: { from: organization.status, reason: reason ?? null },
          });
        }
        // The row was locked above, so the update found it.
        return required(updated, 'the updated organization');
      });
    },

    /** Membership with a permission, for the organization's other services (clients, billing). */
    async authorize(actorId: string, organizationId: string, permission: Permission, what: string) {
      return membership(read, organizationId, actorId, permission, what);
    },

    /** Binds an app's grant to one of the person's organizations (chosen on the consent page). */
    async bindGrant(accountId: string, organizationId: string, grantId: string) {
      if (!(await read.findMembership(organizationId, accountId))) throw errors.notFound();
      await read.bindGrant({ grant_id: grantId, organization_id: organizationId, account_id: accountId });
    },

    /**
     * The organization claims for a grant: undefined when none was chosen, null when the person is
     * no longer a member (tokens must stop being issued for it).
     */
    async grantClaims(grantId: string): Promise<{ org_id: string; org_role: Role } | null | undefined> {
      const binding = await read.findGrantBinding(grantId);
      if (!binding) return undefined;
      return binding.role ? { org_id: binding.organization_id, org_role: binding.role } : null;
    },

    /** Every member and their role, for other domains that tell an organization's people something. */
    async memberRoles(organizationId: string): Promise<{ accountId: string; role: Role }[]> {
      const rows = await read.listMemberRoles(organizationId);
      return rows.map((row) => ({ accountId: row.account_id, role: row.role }));
    },

    /** For other domains: actions that cost money need an approved organization. */
    async requireActive(organizationId: string): Promise<Organization> {
      const organization = await read.findById(organizationId);
      if (!organization) throw errors.notFound();
      if (organization.status !== 'active') throw errors.notActive(organization.status);
      return organization;
    },
  };
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;

function isUniqueViolation(error: unknown) {
  return (error as { code?: string }).code === '23505';
}
