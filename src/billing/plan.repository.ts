import type { Db } from '../db/database.ts';
import type { OrganizationPlansTable } from './billing.table.ts';

/** SQL for organization_plans; works on the database or in the transaction the plan service opened. */
export function createPlanRepository(db: Db) {
  return {
    find(organizationId: string) {
      return db
        .selectFrom('organization_plans')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .executeTakeFirst();
    },

    /**
     * Serializes plan changes of one organization (its row exists even before its first plan), and
     * says whether it still exists: events for a deleted organization have nothing to update.
     */
    async lockOrganization(organizationId: string): Promise<boolean> {
      const row = await db
        .selectFrom('organizations')
        .select('id')
        .where('id', '=', organizationId)
        .forNoKeyUpdate()
        .executeTakeFirst();
      return row !== undefined;
    },

    async upsert(row: Omit<OrganizationPlansTable, 'updated_at'>) {
      const { organization_id: _, ...changes } = row;
      await db
        .insertInto('organization_plans')
        .values(row)
        .onConflict((c) => c.column('organization_id').doUpdateSet({ ...changes, updated_at: new Date() }))
        .execute();
    },
  };
}

export type PlanRepository = ReturnType<typeof createPlanRepository>;
