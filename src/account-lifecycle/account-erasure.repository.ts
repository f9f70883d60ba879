import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * The erasure of one person across every table that holds something of theirs. It reaches into
 * other domains' tables, which a repository otherwise never does: a deletion must be one
 * transaction (all of it or none), and one file listing every table is what a reviewer checks
 * against the schema when a table is added (test/account-lifecycle/account-deletion.test.ts searches
 * the whole database to catch what this misses).
 */
export function createAccountErasureRepository(db: Db) {
  return {
    lockAccount(accountId: string) {
      return db.selectFrom('accounts').selectAll().where('id', '=', accountId).forUpdate().executeTakeFirst();
    },

    /** The organizations where the person is the only owner, their owner rows locked against a concurrent change. */
    async organizationsOnlyOwnedBy(accountId: string): Promise<{ id: string; name: string }[]> {
      const owned = await db
        .selectFrom('memberships')
        .innerJoin('organizations', 'organizations.id', 'memberships.organization_id')
        .select(['organizations.id', 'organizations.name'])
        .where('memberships.account_id', '=', accountId)
        .where('memberships.role', '=', 'owner')
        .orderBy('organizations.name')
        .execute();
      const alone: { id: string; name: string }[] = [];
      for (const organization of owned) {
        const owners = await db
          .selectFrom('memberships')
          .select('account_id')
          .where('organization_id', '=', organization.id)
          .where('role', '=', 'owner')
          .forUpdate()
          .execute();
        if (owners.length === 1) alone.push(organization);
      }
      return alone;
    },

    /** The person's own environments that are not deleted: they hold machines and volumes to remove first. */
    async liveEnvironments(accountId: string): Promise<number> {
      const row = await db
        .selectFrom('environments')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('account_id', '=', accountId)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /**
     * Erases the person, keeping what must stay for others' sake under the account's id, which
     * now names nobody: ledger entries (append-only, and other wallets balance against them),
     * organizations they created, their audit events without address, browser or detail.
     */
    async erase(
      accountId: string,
      identifiers: { email: string | null; phoneNumber: string | null; fairyname: string },
    ) {
      const addresses = [identifiers.email, identifiers.phoneNumber].filter((value) => value !== null);
      // Published events keep their envelope (consumers de-duplicate and order by it), but no string
      // of theirs names the person any more: the address an invitation went to, the old fairyname.
      for (const needle of [...addresses, identifiers.fairyname]) {
        const quoted = sql`to_json(${needle}::text)::text`;
        await sql`update event_outbox set payload = replace(payload::text, ${quoted}, '"erased"')::json
          where strpos(payload::text, ${quoted}) > 0`.execute(db);
        await sql`update webhook_deliveries set body = replace(body, ${quoted}, '"erased"')
          where strpos(body, ${quoted}) > 0`.execute(db);
      }
      await db.deleteFrom('memberships').where('account_id', '=', accountId).execute();
      await db.deleteFrom('organization_grants').where('account_id', '=', accountId).execute();
      await db.deleteFrom('dust_allowances').where('account_id', '=', accountId).execute();
      await db.deleteFrom('passkeys').where('account_id', '=', accountId).execute();
      await db.deleteFrom('totp_factors').where('account_id', '=', accountId).execute();
      await db.deleteFrom('backup_codes').where('account_id', '=', accountId).execute();
      await db.deleteFrom('remembered_browsers').where('account_id', '=', accountId).execute();
      await db.deleteFrom('linked_identities').where('account_id', '=', accountId).execute();
      if (addresses.length) {
        // Invitations to the person: kept for the organization's history, without the address;
        // open ones are withdrawn. The open-invitation index is unique per address, so each gets a value
        // of its own: 'erased:' and its id.
        await db
          .updateTable('invitations')
          .set({ email: sql<string>`'erased:' || id`, revoked_at: sql<Date>`coalesce(revoked_at, now())` })
          .where('email', 'in', addresses)
          .where('accepted_at', 'is', null)
          .where('declined_at', 'is', null)
          .execute();
        await db
          .updateTable('invitations')
          .set({ email: sql<string>`'erased:' || id` })
          .where('email', 'in', addresses)
          .execute();
        // Organizations' event trails name invited addresses in their details.
        await db
          .updateTable('organization_events')
          .set({ details: sql`details - 'email'` })
          .where(sql<string>`details->>'email'`, 'in', addresses)
          .execute();
      }
      // Environment names are the person's words; the rows stay for metering and the event trail.
      await db
        .updateTable('environments')
        .set({ name: 'Deleted environment' })
        .where('account_id', '=', accountId)
        .execute();
      await db
        .updateTable('accounts')
        .set({
          email: null,
          email_verified: false,
          phone_number: null,
          phone_number_verified: false,
          name: null,
          picture_url: null,
          // The fairyname was public and chosen for the person: a fresh one that means nothing.
          fairyname: `deleted_${randomBytes(8).toString('hex')}`,
          platform_owner: false,
          status: 'deleted',
          status_reason: null,
          status_changed_at: new Date(),
          updated_at: new Date(),
        })
        .where('id', '=', accountId)
        .execute();
    },

    /**
     * What the provider's side leaves behind once sessions are ended and grants revoked: the
     * device list, token rows not yet swept (consumed or expired), and the audit trail's personal
     * fields (the database trigger allows only this change to it).
     */
    async eraseTraces(accountId: string) {
      await db.deleteFrom('account_sessions').where('account_id', '=', accountId).execute();
      await db.deleteFrom('oidc_payloads').where(sql<string>`payload->>'accountId'`, '=', accountId).execute();
      // Raw SQL: the table type forbids updates to `detail`, as everywhere else it must.
      await sql`update audit_events set ip = null, user_agent = null, detail = null
        where account_id = ${accountId} and (ip is not null or user_agent is not null or detail is not null)`.execute(
        db,
      );
    },
  };
}

export type AccountErasureRepository = ReturnType<typeof createAccountErasureRepository>;
