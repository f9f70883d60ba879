import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { EventDraft } from '../events/event-catalog.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { DEFAULT_LOCALE, type Locale } from '../i18n/locales.ts';
import { ApiError } from '../shared/api-error.ts';
import { createInvitationRepository } from './invitation.repository.ts';
import { organizationErrors as errors } from './organization.errors.ts';
import { createOrganizationRepository, type OrganizationRepository } from './organization.repository.ts';
import type { PageRequest } from './organization.service.ts';
import type { Invitation, Organization } from './organization.table.ts';
import { allows, type Role } from './permissions.ts';

const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** `locale`: the language of the request that sent it, the best guess there is at the invitee's. */
export type InvitationMail = {
  to: string;
  organizationName: string;
  role: Role;
  link: string;
  expiresAt: Date;
  locale: Locale;
};

export const invitationErrors = {
  notFound: () => new ApiError(404, 'invitation_not_found', 'No such open invitation in this organization.'),
  alreadyOpen: () =>
    new ApiError(409, 'invitation_exists', 'This address already has an open invitation; resend it instead.'),
  alreadyMember: () => new ApiError(409, 'already_member', 'That person is already a member.'),
};

/** Why an invitation link cannot be used; the page words each for a person. */
export type InvitationProblem =
  | 'unknown'
  | 'expired'
  | 'accepted'
  | 'declined'
  | 'revoked'
  | 'wrong_account'
  | 'already_member';

export class InvitationUnusable extends Error {
  override name = 'InvitationUnusable';
  readonly problem: InvitationProblem;

  constructor(problem: InvitationProblem) {
    super(problem);
    this.problem = problem;
  }
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Invitations by email: the link carries a 256-bit token of which only the hash is stored; it
 * works once, for seven days, and only for a person signed in with the invited address.
 */
export function createInvitationService(deps: {
  db: Db;
  /** invitation.sent and invitation.accepted (with organization.member_added) commit with the change. */
  events: EventRecorder;
  issuer: string;
  send(mail: InvitationMail): Promise<void>;
}) {
  const { db } = deps;
  const read = createInvitationRepository(db);
  const inTransaction = <T>(
    work: (repos: {
      invitations: ReturnType<typeof createInvitationRepository>;
      organizations: OrganizationRepository;
      emit(draft: EventDraft): Promise<void>;
    }) => Promise<T>,
  ) =>
    db.transaction().execute((trx) =>
      work({
        invitations: createInvitationRepository(trx),
        organizations: createOrganizationRepository(trx),
        emit: async (draft) => void (await deps.events.record(trx, draft)),
      }),
    );
  const sent = (actorId: string, invitation: Invitation, resent: boolean): EventDraft => ({
    type: 'invitation.sent',
    actor: { type: 'account', id: actorId },
    subject: { type: 'invitation', id: invitation.id },
    organizationId: invitation.organization_id,
    data: { invitation_id: invitation.id, email: invitation.email, role: invitation.role, resent },
  });

  async function manager(organizations: OrganizationRepository, organizationId: string, actorId: string, role?: Role) {
    const actor = await organizations.findMembership(organizationId, actorId);
    if (!actor) throw errors.notFound();
    if (!allows(actor.role, 'members:manage')) throw errors.forbidden('invite people');
    if (role === 'owner' && actor.role !== 'owner') throw errors.ownerRequired();
    return actor;
  }

  const newToken = () => {
    const token = randomBytes(32).toString('base64url');
    return { token, token_hash: hashToken(token), expires_at: new Date(Date.now() + INVITATION_TTL_MS) };
  };

  async function mail(invitation: Invitation, organization: Organization, token: string, locale: Locale) {
    await deps.send({
      to: invitation.email,
      organizationName: organization.name,
      role: invitation.role,
      link: `${deps.issuer}/invitations/${token}`,
      expiresAt: invitation.expires_at,
      locale,
    });
  }

  /** An invitation that can still be answered, or the reason it cannot. */
  function usable(invitation: Invitation | undefined): Invitation {
    if (!invitation) throw new InvitationUnusable('unknown');
    if (invitation.accepted_at) throw new InvitationUnusable('accepted');
    if (invitation.declined_at) throw new InvitationUnusable('declined');
    if (invitation.revoked_at) throw new InvitationUnusable('revoked');
    if (invitation.expires_at.getTime() <= Date.now()) throw new InvitationUnusable('expired');
    return invitation;
  }

  return {
    async create(
      actorId: string,
      organizationId: string,
      input: { email: string; role: Role },
      locale: Locale = DEFAULT_LOCALE,
    ) {
      const { token, ...secret } = newToken();
      const { invitation, organization } = await inTransaction(async ({ invitations, organizations, emit }) => {
        await manager(organizations, organizationId, actorId, input.role);
        const organization = await organizations.findById(organizationId);
        if (!organization) throw errors.notFound();
        if (await organizations.hasMemberWithEmail(organizationId, input.email)) throw invitationErrors.alreadyMember();
        const invitation = await invitations.insert({
          id: randomUUID(),
          organization_id: organizationId,
          ...input,
          ...secret,
          invited_by: actorId,
        });
        if (!invitation) throw invitationErrors.alreadyOpen();
        await organizations.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: 'invitation.created',
          details: input,
        });
        await emit(sent(actorId, invitation, false));
        return { invitation, organization };
      });
      await mail(invitation, organization, token, locale);
      return invitation;
    },

    async list(actorId: string, organizationId: string, page: PageRequest) {
      await manager(createOrganizationRepository(db), organizationId, actorId);
      return read.listOpen(organizationId, page.cursor, page.limit);
    },

    async revoke(actorId: string, organizationId: string, invitationId: string) {
      await inTransaction(async ({ invitations, organizations }) => {
        await manager(organizations, organizationId, actorId);
        const invitation = await invitations.findOpen(organizationId, invitationId);
        if (!invitation) throw invitationErrors.notFound();
        await invitations.update(invitation.id, { revoked_at: new Date() });
        await organizations.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: 'invitation.revoked',
          details: { email: invitation.email },
        });
      });
    },

    /** A fresh link and a fresh seven days; the old link stops working. */
    async resend(actorId: string, organizationId: string, invitationId: string, locale: Locale = DEFAULT_LOCALE) {
      const { token, ...secret } = newToken();
      const { invitation, organization } = await inTransaction(async ({ invitations, organizations, emit }) => {
        await manager(organizations, organizationId, actorId);
        const found = await invitations.findOpen(organizationId, invitationId);
        const organization = await organizations.findById(organizationId);
        if (!found || !organization) throw invitationErrors.notFound();
        await invitations.update(found.id, secret);
        await organizations.insertEvent({
          organization_id: organizationId,
          actor_id: actorId,
          action: 'invitation.resent',
          details: { email: found.email },
        });
        await emit(sent(actorId, found, true));
        return { invitation: { ...found, ...secret }, organization };
      });
      await mail(invitation, organization, token, locale);
      return invitation;
    },

    /** What the invitation page shows before the person answers. */
    async preview(token: string) {
      const invitation = usable(await read.findByTokenHash(hashToken(token)));
      const organization = await createOrganizationRepository(db).findById(invitation.organization_id);
      if (!organization) throw new InvitationUnusable('unknown');
      return { invitation, organization };
    },

    async accept(token: string, account: { id: string; email: string | null; email_verified: boolean }) {
      return inTransaction(async ({ invitations, organizations, emit }) => {
        const invitation = usable(await invitations.lockByTokenHash(hashToken(token)));
        if (!account.email_verified || account.email !== invitation.email)
          throw new InvitationUnusable('wrong_account');
        if (await organizations.findMembership(invitation.organization_id, account.id))
          throw new InvitationUnusable('already_member');
        await organizations.insertMembership({
          organization_id: invitation.organization_id,
          account_id: account.id,
          role: invitation.role,
        });
        await invitations.update(invitation.id, { accepted_at: new Date(), accepted_by: account.id });
        await organizations.insertEvent({
          organization_id: invitation.organization_id,
          actor_id: account.id,
          action: 'member.joined',
          subject_id: account.id,
          details: { role: invitation.role, invited_by: invitation.invited_by },
        });
        const about = {
          actor: { type: 'account' as const, id: account.id },
          organizationId: invitation.organization_id,
        };
        await emit({
          ...about,
          type: 'invitation.accepted',
          subject: { type: 'invitation', id: invitation.id },
          data: { invitation_id: invitation.id, account_id: account.id, role: invitation.role },
        });
        await emit({
          ...about,
          type: 'organization.member_added',
          subject: { type: 'account', id: account.id },
          data: { account_id: account.id, role: invitation.role, via: 'invitation' },
        });
        return invitation;
      });
    },

    async decline(token: string, account: { id: string; email: string | null; email_verified: boolean }) {
      await inTransaction(async ({ invitations, organizations }) => {
        const invitation = usable(await invitations.lockByTokenHash(hashToken(token)));
        if (!account.email_verified || account.email !== invitation.email)
          throw new InvitationUnusable('wrong_account');
        await invitations.update(invitation.id, { declined_at: new Date() });
        await organizations.insertEvent({
          organization_id: invitation.organization_id,
          actor_id: account.id,
          action: 'invitation.declined',
          details: { email: invitation.email },
        });
      });
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;
