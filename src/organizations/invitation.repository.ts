import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type { Role } from './permissions.ts';

export function createInvitationRepository(db: Db) {
  const open = () =>
    db
      .selectFrom('invitations')
      .selectAll()
      .where('accepted_at', 'is', null)
      .where('declined_at', 'is', null)
      .where('revoked_at', 'is', null);

  return {
    /** Undefined when an open invitation for this address already exists (the partial unique index). */
    insert(row: {
      id: string;
      organization_id: string;
      email: string;
      role: Role;
      token_hash: string;
      invited_by: string;
      expires_at: Date;
    }) {
      return db
        .insertInto('invitations')
        .values(row)
        .onConflict((c) => c.doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    findOpen(organizationId: string, id: string) {
      return open().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
    },

    findByTokenHash(tokenHash: string) {
      return db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    },

    /** Locked, so accepting twice at once books one membership. */
    lockByTokenHash(tokenHash: string) {
      return db
        .selectFrom('invitations')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .forUpdate()
        .executeTakeFirst();
    },

    listOpen(organizationId: string, cursor: CursorKey | undefined, limit: number) {
      return open()
        .where('organization_id', '=', organizationId)
        .where(cursor ? sql<boolean>`(created_at, id) > (${new Date(cursor.at)}, ${cursor.id})` : sql<boolean>`true`)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
    },

    async update(
      id: string,
      patch: {
        token_hash?: string;
        expires_at?: Date;
        accepted_at?: Date;
        accepted_by?: string;
        declined_at?: Date;
        revoked_at?: Date;
      },
    ) {
      await db.updateTable('invitations').set(patch).where('id', '=', id).execute();
    },
  };
}

export type InvitationRepository = ReturnType<typeof createInvitationRepository>;
