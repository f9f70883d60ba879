import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export function createSigningKeyRepository(db: Db) {
  return {
    /** Published keys, newest first: oidc-provider signs with the first key matching an algorithm. */
    findPublished() {
      return db
        .selectFrom('signing_keys')
        .select(['kid', 'alg', 'encrypted_jwk', 'created_at'])
        .where('retired_at', 'is', null)
        .orderBy('created_at', 'desc')
        .orderBy('kid')
        .execute();
    },

    findAll() {
      return db
        .selectFrom('signing_keys')
        .select(['kid', 'alg', 'created_at', 'retired_at'])
        .orderBy('created_at', 'desc')
        .execute();
    },

    async insert(rows: { kid: string; alg: string; encrypted_jwk: string }[]) {
      await db.insertInto('signing_keys').values(rows).execute();
    },

    /**
     * Retires every published key that is not the newest of its algorithm, or only `kid`. With
     * `supersededBefore`, only keys whose successor was already published then: tokens they signed
     * have had time to expire (the waiting rule the console applies).
     */
    async retireSuperseded(kid?: string, supersededBefore?: Date): Promise<string[]> {
      const cutoff = supersededBefore ? sql`and newer.created_at <= ${supersededBefore}` : sql``;
      const superseded = sql<boolean>`exists (
        select 1 from signing_keys newer
        where newer.alg = signing_keys.alg and newer.created_at > signing_keys.created_at and newer.retired_at is null
        ${cutoff}
      )`;
      let query = db
        .updateTable('signing_keys')
        .set({ retired_at: new Date() })
        .where('retired_at', 'is', null)
        .where(superseded);
      if (kid) query = query.where('kid', '=', kid);
      const retired = await query.returning('kid').execute();
      return retired.map((row) => row.kid);
    },
  };
}

export type SigningKeyRepository = ReturnType<typeof createSigningKeyRepository>;
