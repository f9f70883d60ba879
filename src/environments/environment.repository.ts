import { randomBytes } from 'node:crypto';
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { CursorKey } from '../shared/cursor.ts';
import type {
  EnvironmentEventsTable,
  EnvironmentState,
  EnvironmentsTable,
  EnvironmentTemplatesTable,
} from './environment.table.ts';

/** The states the reconciler has work in: transitions, and running machines (metering, idleness). */
export const WORKING_STATES: EnvironmentState[] = ['provisioning', 'starting', 'running', 'stopping', 'deleting'];

// Trail ids sort in insertion order within a millisecond, so two events written together (machine
// created, then ready) read back in that order: pages of the trail are ordered by (created_at, id).
let sequence = 0;
const eventId = (at: Date) =>
  `${at.getTime().toString(16).padStart(12, '0')}-${(sequence++ % 0xffffffff).toString(16).padStart(8, '0')}-${randomBytes(6).toString('hex')}`;

export type EnvironmentPatch = Updateable<EnvironmentsTable>;
export type NewEvent = Omit<Insertable<EnvironmentEventsTable>, 'id' | 'detail'> & { detail?: Record<string, unknown> };

export function createEnvironmentRepository(db: Db) {
  return {
    /** Serializes creates for one owner, so counting against a limit and inserting cannot interleave. */
    async lockOwner(ownerKey: string) {
      await db
        .insertInto('environment_owners')
        .values({ owner_key: ownerKey })
        .onConflict((c) => c.doNothing())
        .execute();
      await db
        .selectFrom('environment_owners')
        .select('owner_key')
        .where('owner_key', '=', ownerKey)
        .forUpdate()
        .execute();
    },

    findByIdempotencyKey(scope: string, key: string) {
      return db
        .selectFrom('environments')
        .selectAll()
        .where('idempotency_scope', '=', scope)
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
    },

    /** Environments that count against a limit: every one not deleted or on its way out. */
    async countLive(owner: { account_id: string } | { organization_id: string }) {
      let query = db
        .selectFrom('environments')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('desired_state', '<>', 'deleted');
      query =
        'account_id' in owner
          ? query.where('account_id', '=', owner.account_id)
          : query.where('organization_id', '=', owner.organization_id);
      return Number((await query.executeTakeFirstOrThrow()).count);
    },

    async insert(row: Insertable<EnvironmentsTable>) {
      return db.insertInto('environments').values(row).returningAll().executeTakeFirstOrThrow();
    },

    findById(id: string) {
      return db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
    },

    lock(id: string) {
      return db.selectFrom('environments').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    },

    findByPhoneHomeHash(hash: string) {
      return db.selectFrom('environments').selectAll().where('phone_home_hash', '=', hash).executeTakeFirst();
    },

    /** Applies `patch` only while the row is still in one of `states`; false when it moved on meanwhile. */
    async updateIf(id: string, states: EnvironmentState[], patch: EnvironmentPatch): Promise<boolean> {
      const result = await db
        .updateTable('environments')
        .set(patch)
        .where('id', '=', id)
        .where('state', 'in', states)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Records the machine's arrival once: false when phone_home (or another visit) recorded it first. */
    async recordMachineCreated(id: string, states: EnvironmentState[], patch: EnvironmentPatch): Promise<boolean> {
      const result = await db
        .updateTable('environments')
        .set(patch)
        .where('id', '=', id)
        .where('state', 'in', states)
        .where('machine_created_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async update(id: string, patch: EnvironmentPatch) {
      await db.updateTable('environments').set(patch).where('id', '=', id).execute();
    },

    /** A person's own environments and those of the organizations given, oldest first, deleted ones left out. */
    listVisible(accountId: string, organizationIds: string[], cursor: CursorKey | undefined, limit: number) {
      return db
        .selectFrom('environments')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('account_id', '=', accountId),
            ...(organizationIds.length ? [eb('organization_id', 'in', organizationIds)] : []),
          ]),
        )
        .where('state', '<>', 'deleted')
        .where(cursor ? sql<boolean>`(created_at, id) > (${new Date(cursor.at)}, ${cursor.id})` : sql<boolean>`true`)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
    },

    /** A person's own environments (not their organizations') in one of `states`. */
    listOwnedIn(accountId: string, states: readonly EnvironmentState[]) {
      return db
        .selectFrom('environments')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('organization_id', 'is', null)
        .where('state', 'in', states)
        .execute();
    },

    /** Running environments paid from one wallet: what the balance must cover per hour. */
    listRunningFor(owner: { account_id: string } | { organization_id: string }) {
      const query = db.selectFrom('environments').select(['id', 'tier']).where('state', '=', 'running');
      return (
        'account_id' in owner
          ? query.where('account_id', '=', owner.account_id).where('organization_id', 'is', null)
          : query.where('organization_id', '=', owner.organization_id)
      ).execute();
    },

    async insertEvent(event: NewEvent) {
      await db
        .insertInto('environment_events')
        .values({ ...event, id: eventId(event.created_at), detail: JSON.stringify(event.detail ?? {}) })
        .execute();
    },

    listEvents(environmentId: string, cursor: CursorKey | undefined, limit: number) {
      return db
        .selectFrom('environment_events')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .where(cursor ? sql<boolean>`(created_at, id) > (${new Date(cursor.at)}, ${cursor.id})` : sql<boolean>`true`)
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
    },

    findLatestEvent(environmentId: string, kind: string | readonly string[]) {
      return db
        .selectFrom('environment_events')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .where('kind', 'in', typeof kind === 'string' ? [kind] : kind)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    /**
     * Claims up to `limit` environments with work due for `owner` until `leaseUntil`. Rows another
     * instance is claiming right now are skipped (SKIP LOCKED), and a claim whose holder died runs
     * out, so every due row is worked on by one instance at a time and by some instance eventually.
     */
    claimDue(owner: string, now: Date, leaseUntil: Date, limit: number) {
      return (
        db
          .updateTable('environments')
          // Cleared while claimed: a request that needs the reconciler meanwhile sets it, and release keeps that.
          .set({ lease_owner: owner, lease_until: leaseUntil, next_attempt_at: null })
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('environments')
              .select('id')
              .where('state', 'in', WORKING_STATES)
              .where((w) => w.or([w('next_attempt_at', 'is', null), w('next_attempt_at', '<=', now)]))
              .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
              .orderBy('next_attempt_at')
              .limit(limit)
              .forUpdate()
              .skipLocked(),
          )
          .returningAll()
          .execute()
      );
    },

    async release(id: string, owner: string, patch: { attempts: number; next_attempt_at: Date }) {
      await db
        .updateTable('environments')
        .set({
          attempts: patch.attempts,
          next_attempt_at: sql<Date>`coalesce(next_attempt_at, ${patch.next_attempt_at})`,
          lease_owner: null,
          lease_until: null,
        })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .execute();
    },

    listTemplates() {
      return db.selectFrom('environment_templates').selectAll().orderBy('name').execute();
    },

    findTemplate(id: string) {
      return db.selectFrom('environment_templates').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async upsertTemplate(row: Insertable<EnvironmentTemplatesTable>) {
      await db
        .insertInto('environment_templates')
        .values(row)
        .onConflict((c) =>
          c.column('id').doUpdateSet({
            name: row.name,
            description: row.description,
            image: row.image,
            default_tier: row.default_tier,
            user_data: row.user_data,
            retired: false,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    },

    async retireTemplatesExcept(ids: string[], at: Date) {
      await db
        .updateTable('environment_templates')
        .set({ retired: true, updated_at: at })
        .where('retired', '=', false)
        .where((eb) => (ids.length ? eb('id', 'not in', ids) : sql<boolean>`true`))
        .execute();
    },
  };
}

export type EnvironmentRepository = ReturnType<typeof createEnvironmentRepository>;
