import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type { OrganizationStatus, Role } from './permissions.ts';

/** Works on the database or inside a transaction the service opened. */
export function createOrganizationRepository(db: Db) {
  const after = (cursor: CursorKey | undefined, table: string) =>
    cursor
      ? sql<boolean>`(${sql.ref(`${table}.created_at`)}, ${sql.ref(`${table}.id`)}) > (${new Date(cursor.at)}, ${cursor.id})`
      : sql<boolean>`true`;

  return {
    async insert(row: { id: string; slug: string; name: string; status: OrganizationStatus; created_by: string }) {
      return db
        .insertInto('organizations')
        .values(row)
        .onConflict((c) => c.column('slug').doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    findById(id: string) {
      return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Locks the row so concurrent status or membership changes queue behind this transaction. */
    lock(id: string) {
      return db.selectFrom('organizations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    },

    async update(
      id: string,
      patch: { name?: string; slug?: string; status?: OrganizationStatus; status_reason?: string | null },
    ) {
      return db
        .updateTable('organizations')
        .set({ ...patch, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async delete(id: string) {
      await db.deleteFrom('organizations').where('id', '=', id).execute();
    },

    slugTaken(slug: string, exceptId?: string) {
      let query = db.selectFrom('organizations').select('id').where('slug', '=', slug);
      if (exceptId) query = query.where('id', '!=', exceptId);
      return query.executeTakeFirst().then(Boolean);
    },

    listForAccount(accountId: string, cursor: CursorKey | undefined, limit: number) {
      return db
        .selectFrom('organizations')
        .innerJoin('memberships', 'memberships.organization_id', 'organizations.id')
        .selectAll('organizations')
        .select('memberships.role')
        .where('memberships.account_id', '=', accountId)
        .where(after(cursor, 'organizations'))
        .orderBy('organizations.created_at')
        .orderBy('organizations.id')
        .limit(limit + 1)
        .execute();
    },

    listByStatus(status: OrganizationStatus | undefined, cursor: CursorKey | undefined, limit: number) {
      let query = db.selectFrom('organizations').selectAll().where(after(cursor, 'organizations'));
      if (status) query = query.where('status', '=', status);
      return query
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
    },

    findMembership(organizationId: string, accountId: string) {
      return db
        .selectFrom('memberships')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('account_id', '=', accountId)
        .executeTakeFirst();
    },

    hasMemberWithEmail(organizationId: string, email: string) {
      return db
        .selectFrom('memberships')
        .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
        .select('accounts.id')
        .where('memberships.organization_id', '=', organizationId)
        .where('accounts.email', '=', email)
        .executeTakeFirst()
        .then(Boolean);
    },

    membershipsOf(accountId: string) {
      return db
        .selectFrom('memberships')
        .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
        .select([
          'organizations.id',
          'organizations.slug',
          'organizations.name',
          'organizations.status',
          'memberships.role',
        ])
        .where('memberships.account_id', '=', accountId)
        .orderBy('organizations.created_at')
        .execute();
    },

    listMemberRoles(organizationId: string) {
      return db
        .selectFrom('memberships')
        .select(['account_id', 'role'])
        .where('organization_id', '=', organizationId)
        .orderBy('created_at')
        .execute();
    },

    /** The owners' rows, locked: the last-owner rule is checked against a count nobody can change meanwhile. */
    lockOwners(organizationId: string) {
      return db
        .selectFrom('memberships')
        .select('account_id')
        .where('organization_id', '=', organizationId)
        .where('role', '=', 'owner')
        .forUpdate()
        .execute();
    },

    async insertMembership(row: { organization_id: string; account_id: string; role: Role }) {
      await db.insertInto('memberships').values(row).execute();
    },

    async updateRole(organizationId: string, accountId: string, role: Role) {
      await db
        .updateTable('memberships')
        .set({ role })
        .where('organization_id', '=', organizationId)
        .where('account_id', '=', accountId)
        .execute();
    },

    async deleteMembership(organizationId: string, accountId: string) {
      await db
        .deleteFrom('memberships')
        .where('organization_id', '=', organizationId)
        .where('account_id', '=', accountId)
        .execute();
    },

    listMembers(organizationId: string, cursor: CursorKey | undefined, limit: number) {
      return db
        .selectFrom('memberships')
        .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
        .select([
          'accounts.id',
          'accounts.email',
          'accounts.fairyname',
          'accounts.name',
          'memberships.role',
          'memberships.created_at',
        ])
        .where('memberships.organization_id', '=', organizationId)
        .where(
          cursor
            ? sql<boolean>`(memberships.created_at, accounts.id) > (${new Date(cursor.at)}, ${cursor.id})`
            : sql<boolean>`true`,
        )
        .orderBy('memberships.created_at')
        .orderBy('accounts.id')
        .limit(limit + 1)
        .execute();
    },

    async bindGrant(row: { grant_id: string; organization_id: string; account_id: string }) {
      await db
        .insertInto('organization_grants')
        .values(row)
        .onConflict((c) =>
          c.column('grant_id').doUpdateSet({ organization_id: row.organization_id, account_id: row.account_id }),
        )
        .execute();
    },

    /** The organization chosen for a grant and the person's current role there (null once they left). */
    findGrantBinding(grantId: string) {
      return db
        .selectFrom('organization_grants')
        .leftJoin('memberships', (join) =>
          join
            .onRef('memberships.organization_id', '=', 'organization_grants.organization_id')
            .onRef('memberships.account_id', '=', 'organization_grants.account_id'),
        )
        .select(['organization_grants.organization_id', 'memberships.role'])
        .where('organization_grants.grant_id', '=', grantId)
        .executeTakeFirst();
    },

    async insertEvent(row: {
      organization_id: string;
      actor_id: string | null;
      action: string;
      subject_id?: string | null;
      details?: Record<string, unknown>;
    }) {
      await db
        .insertInto('organization_events')
        .values({ id: randomUUID(), subject_id: null, ...row, details: JSON.stringify(row.details ?? {}) })
        .execute();
    },

    listEvents(organizationId: string, cursor: CursorKey | undefined, limit: number) {
      return db
        .selectFrom('organization_events')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where(after(cursor, 'organization_events'))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
    },
  };
}

export type OrganizationRepository = ReturnType<typeof createOrganizationRepository>;
